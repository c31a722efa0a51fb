// Model files: an osp model is a safetensors file of its parameters (Hugging Face names, f32)
// whose metadata holds the model config ("osp.model_config", JSON). load_model() is the one
// entry point every command uses to get a model: it accepts such a file, a llama GGUF, a
// checkpoint folder (holding model.safetensors), a run folder (its latest checkpoint), or a
// Hugging Face Llama folder. Files are told apart by their first bytes, never by extension.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "core/aligned_buffer.h"
#include "core/result.h"
#include "model/config.h"
#include "model/params.h"

namespace osp::io {

struct LoadedModel {
  model::ModelConfig config;
  model::ParamTable table;
  AlignedBuffer<float> params;  // laid out by table
  std::filesystem::path file;   // the file (or Hugging Face folder) read
  // The tokenizer that came with the model: tokenizer.json text (from a GGUF's tokenizer keys) or
  // the tokenizer.json beside a Hugging Face folder's weights; both empty when none did.
  std::string tokenizer_json;
  std::filesystem::path tokenizer_file;
  std::optional<int64_t> eos_id;  // end of sequence, when the file names it (GGUF, config.json)
};

// tokenizer_json, when not empty, is stored in the metadata ("osp.tokenizer") and comes back as
// LoadedModel::tokenizer_json.
Status save_model(const std::filesystem::path& file, const model::ModelConfig& config,
                  const model::ParamTable& table, const float* params, const std::string& tokenizer_json = {});

// A whole small text file (side files: tokenizer.json, config.json), at most 256 MiB.
Result<std::string> read_text_file(const std::filesystem::path& file);

// Reads the file and checks every tensor's presence, dtype and shape against the config.
Result<LoadedModel> load_model_file(const std::filesystem::path& file);

// A model file, a GGUF, a checkpoint folder, a run folder or a Hugging Face folder (see above).
Result<LoadedModel> load_model(const std::filesystem::path& path);

// The checkpoint folder a run folder's "latest" names (checkpoints/latest), or an error.
Result<std::filesystem::path> latest_checkpoint(const std::filesystem::path& run_dir);

}  // namespace osp::io
