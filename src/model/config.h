// Model configuration of the Llama/OSP decoder (osp-method.md §1.1) with validation that names
// the offending field, and JSON conversion (checkpoints and tools store the resolved config).
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

#include "core/result.h"

namespace osp::model {

enum class NormKind { kRms, kSingleScale };  // "rms" (per-channel gain) or "ssnorm" (one scalar)

// The compute precision of a run (train.precision): what the GEMMs read. fp32, or bf16 operands
// with fp32 accumulation over fp32 master weights (docs/engine.md).
enum class Precision { kF32, kBF16 };
std::string precision_name(Precision p);  // "fp32" / "bf16"
Result<Precision> parse_precision(const std::string& name);

struct ModelConfig {
  int64_t layers = 0;
  int64_t hidden = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;  // 0: same as heads (no GQA)
  int64_t ffn = 0;       // 0: the spec's default, ⌊8D/3⌋ rounded up to a multiple of 128 (§1.6)
  int64_t vocab = 0;
  double rope_theta = 10000.0;
  double norm_eps = 1e-5;
  NormKind norm = NormKind::kRms;
  bool emb_proj = false;  // R1 after the embedding, R2 before the head (§1.7)
  bool tie = false;       // head shares the embedding matrix
  double init_std = 0.0;  // 0: the fan-in rule (§1.10); otherwise N(0, init_std²)
  int64_t context = 2048;

  int64_t head_dim() const { return hidden / heads; }
  bool single_scale() const { return norm == NormKind::kSingleScale; }
};

// ⌊8·D/3⌋ rounded up to a multiple of 128 (osp-method.md §1.6).
int64_t default_ffn_size(int64_t hidden);

// Fills kv_heads and ffn defaults, then validates every field; the message names the field.
Result<ModelConfig> resolve(ModelConfig config);

// JSON with the field names above; "norm": "rms"|"ssnorm", "init": "fan_in" or a number.
// Unknown keys and wrong types are refused by name. The result is resolved and validated.
Result<ModelConfig> model_config_from_json(const nlohmann::json& j);
nlohmann::json model_config_to_json(const ModelConfig& c);

std::string norm_kind_name(NormKind k);

}  // namespace osp::model
