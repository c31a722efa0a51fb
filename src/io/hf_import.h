// Reading a Hugging Face LlamaForCausalLM folder (formats.md §2.4, §2.5) into an osp model:
// config.json, then model.safetensors or the shards named by model.safetensors.index.json;
// F32/F16/BF16, tied or untied, GQA. Anything else is refused by name.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "io/model_file.h"

namespace osp::io {

// True when `dir` holds config.json next to model.safetensors or model.safetensors.index.json.
bool is_hf_llama_dir(const std::filesystem::path& dir);

// Loads the folder; `notices` (optional) receives what was accepted with a remark.
Result<LoadedModel> load_hf_llama(const std::filesystem::path& dir, std::vector<std::string>* notices = nullptr);

}  // namespace osp::io
