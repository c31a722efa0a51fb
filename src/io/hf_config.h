// config.json of a Hugging Face LlamaForCausalLM checkpoint (formats.md §2.2): parsing with the
// spec's refusals (other model types, biases, rope scaling, non-silu activations, odd head_dim)
// and writing osp's export form (both spellings of rope_theta and dtype).
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/config.h"

namespace osp::io {

// Token ids written into config.json / generation_config.json; absent ids are omitted (pad) or
// written as null (bos, eos).
struct HfSpecialIds {
  std::optional<int64_t> bos, eos, pad;
};

struct HfConfig {
  model::ModelConfig model;          // norm = rms, emb_proj = false (a plain Llama)
  std::string dtype;                 // "bfloat16", "float32", ... or empty when not stated
  HfSpecialIds special;
  std::vector<std::string> notices;  // defaults applied, ignored fields
};

// Parses and validates config.json text; `file` names it in messages.
Result<HfConfig> parse_hf_config(std::string_view text, std::string_view file);

// osp's config.json (keys in the order of formats.md §2.2's example); `torch_dtype` is the torch
// name of the storage dtype ("bfloat16", "float32").
nlohmann::ordered_json hf_config_to_json(const model::ModelConfig& config, std::string_view torch_dtype,
                                         const HfSpecialIds& special);
nlohmann::ordered_json hf_generation_config_json(const HfSpecialIds& special);

// The transformers release the export is tested against (written as transformers_version).
inline constexpr const char* kHfTransformersVersion = "4.47.1";

}  // namespace osp::io
