// The parameter table: every tensor of the model, listed once, with its Hugging Face name, shape,
// role and offset in one flat buffer (osp-method.md §1.11). Init, checkpoints, optimizers,
// export and quantization all walk this list; LlamaWeights binds typed views into a buffer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace osp::model {

enum class ParamRole {
  kEmbedding,  // model.embed_tokens.weight (V, D)
  kEmbProj,    // model.embed_proj.weight R1 (D, D)
  kHeadProj,   // model.head_proj.weight R2 (D, D)
  kHead,       // lm_head.weight (V, D), absent when tied
  kNormGain,   // every norm: (D) per-channel, () single-scale
  kAttnQ, kAttnK, kAttnV, kAttnO,
  kFfnGate, kFfnUp, kFfnDown,
};

struct ParamInfo {
  std::string name;
  std::vector<int64_t> shape;  // () for an SSNorm scalar
  int64_t offset = 0;          // in elements, into the flat buffer (64-byte aligned)
  int64_t numel = 0;
  ParamRole role = ParamRole::kNormGain;
  int layer = -1;              // -1 outside the blocks
  int64_t fan_in = 0;          // in_features of a linear weight; 0 otherwise
};

class ParamTable {
 public:
  explicit ParamTable(const ModelConfig& config);
  const std::vector<ParamInfo>& params() const { return params_; }
  int64_t total_elems() const { return total_; }  // buffer size including alignment padding
  int64_t num_parameters() const;                  // sum of numel
  const ParamInfo* find(const std::string& name) const;

 private:
  void add(std::string name, std::vector<int64_t> shape, ParamRole role, int layer, int64_t fan_in);
  std::vector<ParamInfo> params_;
  int64_t total_ = 0;
};

template <class T>
struct LayerWeights {
  T* input_norm;      // (D) or ()
  T* q;               // (H·Dh, D)
  T* k;               // (Hkv·Dh, D)
  T* v;               // (Hkv·Dh, D)
  T* o;               // (D, H·Dh)
  T* post_attn_norm;  // (D) or ()
  T* gate;            // (F, D)
  T* up;              // (F, D)
  T* down;            // (D, F)
};

// Typed views of every parameter in one flat buffer (weights, gradients, optimizer state, or the
// bf16 copies of mixed precision).
template <class T>
struct LlamaWeights {
  T* base = nullptr;        // the flat buffer (table.total_elems() values)
  T* embed = nullptr;       // (V, D)
  T* emb_proj = nullptr;    // R1 (D, D), null without emb_proj
  std::vector<LayerWeights<T>> layers;
  T* final_norm = nullptr;  // (D) or ()
  T* head_proj = nullptr;   // R2 (D, D), null without emb_proj
  T* head = nullptr;        // (V, D); == embed when tied

  static LlamaWeights bind(const ParamTable& table, T* base);
};

}  // namespace osp::model
