// Model files: an osp model is a safetensors file of its parameters (Hugging Face names, f32)
// whose metadata holds the model config ("osp.model_config", JSON). load_model() is the one
// entry point every command uses to get a model: it accepts such a file, a checkpoint folder
// (holding model.safetensors), a run folder (its latest checkpoint), or a Hugging Face Llama folder.
#pragma once
#include <filesystem>
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
  std::filesystem::path file;   // the safetensors file read
};

Status save_model(const std::filesystem::path& file, const model::ModelConfig& config,
                  const model::ParamTable& table, const float* params);

// Reads the file and checks every tensor's presence, dtype and shape against the config.
Result<LoadedModel> load_model_file(const std::filesystem::path& file);

// A model file, a checkpoint folder, or a run folder (see above).
Result<LoadedModel> load_model(const std::filesystem::path& path);

// The checkpoint folder a run folder's "latest" names (checkpoints/latest), or an error.
Result<std::filesystem::path> latest_checkpoint(const std::filesystem::path& run_dir);

}  // namespace osp::io
