// The training loop: micro-batches with gradient accumulation, clipping, AdamW/Muon steps on the
// schedule, validation loss, progress lines, metrics.jsonl (one JSON object per step) and
// checkpoints (every save_every steps, at the end, and on Ctrl-C). Resume continues bit-exactly.
#pragma once
#include <filesystem>
#include <optional>

#include "core/result.h"
#include "dist/comm.h"
#include "train/checkpoint.h"
#include "train/run_config.h"
#include "data/token_loader.h"

namespace osp::train {

struct TrainResult {
  int64_t steps_done = 0;
  double final_loss = 0;
  double final_val_loss = -1;  // −1: not evaluated
  bool stopped_early = false;  // a stop was requested
};

// Trains per `config` in run_dir. With `resume`, starts from that checkpoint (its config must be
// compatible: check_compatible; it may have been written by any number of ranks). Training
// windows are drawn at seeded random offsets of train_tokens (the position is the window count,
// so resume is exact); validation uses the same consecutive windows from the start of val_tokens
// every time. val_tokens may be null. comm: the data-parallel world (null: this one process);
// every rank calls run_training with the same arguments, rank 0 prints and writes.
Result<TrainResult> run_training(const RunConfig& config, const std::filesystem::path& run_dir,
                                 const data::TokenDataset& train_tokens, const data::TokenDataset* val_tokens,
                                 const std::optional<CheckpointInfo>& resume, dist::Comm* comm = nullptr);

}  // namespace osp::train
