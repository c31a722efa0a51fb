// The Llama/OSP decoder on the CPU: forward (training, saving what backward needs; or inference,
// reusing one set of buffers), loss, and an explicit backward pass (osp-method.md §1).
//
//   Llama<float> model(config, max_batch, max_seq, ForwardMode::kTrain);
//   model.forward(weights, tokens, b, t);                 // logits() now holds (b·t, V)
//   auto [nll_sum, count] = model.loss(targets, b, t);
//   model.backward(weights, grads, tokens, targets, b, t, 1.0 / count);   // grads +=
#pragma once
#include <cstdint>
#include <vector>

#include "core/aligned_buffer.h"
#include "model/config.h"
#include "model/forward_tap.h"
#include "model/params.h"
#include "ops/rope.h"

namespace osp::model {

enum class ForwardMode { kTrain, kInference };

struct LossSum {
  double nll_sum = 0;   // Σ NLL over counted targets
  int64_t count = 0;    // targets that are not the ignore index
};

template <class T>
class Llama {
 public:
  // Plans every activation buffer for up to max_batch sequences of up to max_seq tokens.
  Llama(const ModelConfig& config, int64_t max_batch, int64_t max_seq, ForwardMode mode);

  // tokens (b, t) → logits (b·t, V). A tap, when given, observes or transforms (see forward_tap.h).
  void forward(const LlamaWeights<T>& w, const int32_t* tokens, int64_t b, int64_t t,
               ForwardTap<T>* tap = nullptr);
  // Cross-entropy of the last forward's logits against targets (b, t); keeps what backward needs.
  LossSum loss(const int32_t* targets, int64_t b, int64_t t);
  // Adds ∂(loss_scale · Σ NLL)/∂θ into grads. Needs kTrain and the matching forward + loss.
  void backward(const LlamaWeights<T>& w, const LlamaWeights<T>& grads, const int32_t* tokens,
                const int32_t* targets, int64_t b, int64_t t, T loss_scale);

  const T* logits() const { return logits_; }
  T* logits() { return logits_; }
  const double* row_nll() const { return row_nll_.data(); }  // per-row NLL of the last loss()
  const ModelConfig& config() const { return cfg_; }
  int64_t activation_bytes() const { return arena_.size() * int64_t(sizeof(T)); }

 private:
  struct LayerActs {
    T* resid_in;    // (N, D) input of the layer (= output of the previous one)
    T* resid_mid;   // (N, D) after the attention residual
    T* norm1;       // (N, D)
    T* rstd1;       // (N)
    T* q;           // (N, H·Dh) after RoPE
    T* k;           // (N, Hkv·Dh) after RoPE
    T* v;           // (N, Hkv·Dh)
    T* probs;       // (B, H, T, T); null in inference mode
    T* att;         // (N, H·Dh) attention output = o_proj input
    T* norm2;       // (N, D)
    T* rstd2;       // (N)
    T* gate;        // (N, F)
    T* up;          // (N, F)
    T* act;         // (N, F) silu(gate)·up = down_proj input
  };
  void plan(int64_t max_batch, int64_t max_seq);

  ModelConfig cfg_;
  ForwardMode mode_;
  int64_t max_batch_, max_seq_;
  ops::RopeTable rope_;
  AlignedBuffer<T> arena_;
  std::vector<LayerActs> layers_;
  T* emb_ = nullptr;       // (N, D) embedding rows before R1 (only with emb_proj)
  T* resid_out_ = nullptr; // (N, D) output of the last layer
  T* norm_f_ = nullptr;    // (N, D) final norm output
  T* rstd_f_ = nullptr;    // (N)
  T* head_in_ = nullptr;   // (N, D) norm_f · R2ᵀ (only with emb_proj; else = norm_f)
  T* logits_ = nullptr;    // (N, V); becomes dlogits during backward
  T* lse_ = nullptr;       // (N) log-sum-exp per row
  T* workspace_ = nullptr; // attention scratch
  // Backward scratch (kTrain only).
  T *d_resid_ = nullptr, *d_a_ = nullptr, *d_b_ = nullptr, *d_q_ = nullptr, *d_k_ = nullptr,
    *d_v_ = nullptr, *d_gate_ = nullptr, *d_up_ = nullptr, *d_act_ = nullptr;
  std::vector<double> row_nll_;
};

}  // namespace osp::model
