// Checkpoints: run_dir/checkpoints/step_NNNNNNNN/ holding model.safetensors (parameters, with the
// model config in its metadata), optimizer.safetensors (AdamW m/v, Muon momentum) and state.json
// (run config, step, data position, RNG state). A checkpoint is written into a temporary folder,
// every file synced, then renamed into place, and only then named in checkpoints/latest (itself
// replaced atomically): a crash at any point leaves the previous checkpoint as the latest.
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/result.h"
#include "core/rng.h"
#include "model/params.h"
#include "optim/optimizer.h"
#include "train/run_config.h"

namespace osp::train {

struct TrainState {
  int64_t step = 0;          // optimizer steps completed
  int64_t tokens_seen = 0;
  double elapsed_s = 0;      // training time so far
  nlohmann::json data;       // the batch source's position
  Rng::State rng{};
};

// optimizer_state: the whole state in the single-process layout (Optimizer::gather_state), so a
// checkpoint does not depend on the number of ranks that wrote it.
Status save_checkpoint(const std::filesystem::path& run_dir, const RunConfig& config,
                       const model::ParamTable& table, const float* params,
                       const std::vector<optim::StateTensor>& optimizer_state, const TrainState& state);

struct CheckpointInfo {
  std::filesystem::path dir;
  RunConfig config;
  TrainState state;
};

// Reads and validates state.json of a checkpoint folder.
Result<CheckpointInfo> read_checkpoint_info(const std::filesystem::path& dir);
// Fills params and the optimizer state (views in the single-process layout) from a checkpoint,
// checking every tensor's shape.
Status load_checkpoint_tensors(const std::filesystem::path& dir, const model::ParamTable& table,
                               float* params, const std::vector<optim::StateTensor>& optimizer_state);

// Both configs describe the same model and optimizer groups (what the stored tensors need); the
// message names the first differing setting. Learning rates, steps and data may change.
Status check_compatible(const RunConfig& stored, const RunConfig& requested);

}  // namespace osp::train
