// One training run's state and its steps: the context, parameters, gradients, the model, the
// optimizer and the data position, for this rank of a data-parallel run (one rank: all of it).
// The trainer (trainer.cpp) drives it; this file holds what a step, a validation, the outlier
// watch, a checkpoint save and a resume do.
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <vector>

#include "core/aligned_buffer.h"
#include "data/token_loader.h"
#include "dist/comm.h"
#include "model/llama.h"
#include "optim/optimizer.h"
#include "train/checkpoint.h"
#include "train/run_config.h"

namespace osp::train {

struct Run {
  // train.batch is the global batch: each of N ranks runs batch/N sequences of every micro-batch.
  Run(const RunConfig& config, ops::Context& ctx, dist::Comm& comm, data::WindowSampler sampler);

  // One optimizer step; returns the global mean loss and the global gradient norm before clipping.
  // A step of many micro-batches reports its progress every 30 s (on rank 0).
  std::pair<double, double> step(int64_t step_number);
  // The mean validation loss over eval.batches sequential micro-batches (the same windows every
  // time), the rows of each split across the ranks.
  double validate(const data::TokenDataset& val);
  // The outlier watch on tokens (rank 0's job; the others skip it): kurtosis (both protocols) and
  // max |act|/RMS, as metrics.jsonl fields.
  nlohmann::json watch(const std::vector<int32_t>& tokens);

  // Saves a checkpoint (rank 0 writes; every rank calls it). The state's data position and RNG
  // are filled in here.
  Status save(const std::filesystem::path& run_dir, TrainState& state);
  // Loads parameters and optimizer state from a checkpoint written by any number of ranks.
  Status load(const std::filesystem::path& checkpoint_dir);

  const RunConfig& cfg;
  ops::Context& ctx;
  dist::Comm& comm;
  int64_t local_batch;                   // sequences per micro-batch on this rank
  model::ParamTable table;
  AlignedBuffer<float> params, grads;
  model::LlamaWeights<float> w, g;
  model::Llama<float> model;
  optim::Optimizer opt;
  data::WindowSampler sampler;
  int64_t windows_drawn = 0;             // the data position (global windows)
  std::vector<int32_t> inputs, targets;  // (accum, local_batch, seq)
  std::vector<data::TokenId> window;     // (seq + 1)
};

}  // namespace osp::train
