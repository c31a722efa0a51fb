// The configuration of a training run: TOML sections [model], [optim] (with [optim.adamw],
// [optim.muon], [optim.schedule]), [data], [train], [eval], plus `--set section.key=value`
// overrides. TOML is converted to JSON and every section is read field by field, so unknown keys
// and out-of-range values are refused by their full name. The resolved config is stored in every
// checkpoint, so resume and export need no flags repeated.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/config.h"
#include "optim/param_groups.h"

namespace osp::train {

struct DataSettings {
  std::string train;  // token shards (a manifest or directory) of the training split
  std::string val;    // validation split; empty: the train source's validation split
};

struct TrainSettings {
  int64_t steps = 1000;        // optimizer steps
  int64_t batch = 8;           // sequences per micro-batch
  int64_t seq = 256;           // tokens per sequence
  int64_t accum = 1;           // micro-batches per optimizer step
  int64_t batch_tokens = 0;    // > 0: sets accum so batch·seq·accum equals it exactly
  int64_t seed = 0;
  int64_t log_every = 10;      // progress line every N steps (metrics.jsonl gets every step)
  int64_t save_every = 0;      // checkpoint every N steps; 0: only at the end
  int64_t keep_checkpoints = 2;
  int64_t threads = 0;         // 0: OpenMP default
  // "fp32" or "bf16" (mixed precision: bf16 GEMM operands, fp32 accumulation, fp32 masters and
  // optimizer state; docs/engine.md). bf16 also makes Muon's NS5 bf16 unless optim.muon.ns_dtype
  // says otherwise.
  model::Precision precision = model::Precision::kF32;
};

struct EvalSettings {
  int64_t every = 100;         // validation loss every N steps; 0: only at the end
  int64_t batches = 8;         // validation micro-batches per evaluation
  // The outlier watch: every N steps (0: off) excess kurtosis (both protocols of
  // measurement.md §1) and the largest |activation|/RMS of the hidden states, on the first
  // watch_rows validation windows, go into metrics.jsonl; a warning is printed above the limits.
  int64_t watch_every = 0;
  int64_t watch_rows = 4;
  double warn_kurtosis = 5.0;
  double warn_max_ratio = 100.0;
};

struct RunConfig {
  model::ModelConfig model;
  optim::OptimConfig optim;
  DataSettings data;
  TrainSettings train;
  EvalSettings eval;

  int64_t tokens_per_step() const { return train.batch * train.seq * train.accum; }
};

// Reads a TOML file, applies overrides ("section.key=value", value parsed as a TOML value or
// else taken as a string), resolves and validates. Errors name the file or the key.
Result<RunConfig> load_run_config(const std::filesystem::path& toml_file,
                                  const std::vector<std::string>& overrides = {});
// From the JSON form (what checkpoints store); the same validation.
Result<RunConfig> run_config_from_json(const nlohmann::json& j);
nlohmann::json run_config_to_json(const RunConfig& c);
// Applies one "section.key=value" override to a JSON config tree.
Status apply_override(nlohmann::json& j, const std::string& assignment);

}  // namespace osp::train
