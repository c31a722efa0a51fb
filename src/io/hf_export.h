// Writing a Hugging Face LlamaForCausalLM folder (formats.md §2): config.json,
// model.safetensors (or shards + model.safetensors.index.json above a size), generation_config.json
// and, with a tokenizer, tokenizer.json and tokenizer_config.json. Input is the folded plain Llama.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/fold.h"
#include "io/safetensors_dtype.h"

namespace osp::io {

struct HfExportOptions {
  SafetensorsDType dtype = SafetensorsDType::kBF16;  // kBF16, kF16 or kF32
  uint64_t shard_bytes = 5'000'000'000;              // tensor bytes per file before sharding (§2.5)
  std::optional<std::string> tokenizer_json;         // tokenizer.json text to include, written as is
  std::string tokenizer_source = "tokenizer.json";   // where it came from, for messages
};

struct HfExportReport {
  std::vector<std::filesystem::path> files;  // everything written
  uint64_t tensor_bytes = 0;
  std::vector<std::string> notices;
};

Result<HfExportReport> export_hf(const model::PlainLlama& model, const std::filesystem::path& out_dir,
                                 const HfExportOptions& options);

// "model-00001-of-00003.safetensors"
std::string hf_shard_name(size_t index, size_t count);

}  // namespace osp::io
