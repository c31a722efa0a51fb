// Excess kurtosis and max-activation statistics of the hidden states (measurement.md §1), in the
// paper's `token` protocol (every token alone at position 0) or the `sequence` protocol (each row
// one causal sequence). Cheap enough for the trainer to call every N steps on a fixed token set.
//
//   auto s = eval::measure_activations(ctx, cfg, weights, tokens, rows, width, Protocol::kToken);
//   s.average;  s.states[i].kurtosis;  s.states[i].max_ratio, s.states[i].max_channel
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/config.h"
#include "model/params.h"
#include "ops/context.h"

namespace osp::eval {

enum class Protocol { kToken, kSequence };
Result<Protocol> parse_protocol(const std::string& name);
const char* protocol_name(Protocol p);

// k of §1.4 for one vector: raw (uncentred) 4th moment over the squared unbiased centred
// variance, minus 3; fp64 sums. Returns false (no value) when the variance is 0. x is host memory;
// the statistic is ops::activation_row_stats, the same op the measurement runs.
bool excess_kurtosis(ops::Context& ctx, const float* x, int64_t d, double* k);

struct StateStats {
  double kurtosis = 0;     // mean of k⁺ over the rows' tokens (mean of per-row means, §1.5)
  double max_ratio = 0;    // largest |x_j| / rms(x) over this state's tokens (osp addition)
  int64_t max_channel = -1;  // the channel j where it occurs
};

struct ActivationStats {
  double average = 0;               // mean over rows × states of the per-(row, state) means
  std::vector<StateStats> states;   // L + 1 entries (§1.3)
  int64_t skipped = 0;              // vectors with zero variance (skipped and counted, §1.4)
  int64_t rows = 0, width = 0;
  double max_ratio = 0;             // max over states
  int64_t max_ratio_state = -1;
};

using StatsProgressFn = std::function<void(int64_t, int64_t)>;

// tokens holds at least rows·width ids; the first rows·width are used, split row-major.
// width must not exceed the model's context for kSequence (the caller caps it).
Result<ActivationStats> measure_activations(ops::Context& ctx, const model::ModelConfig& config,
                                            const model::LlamaWeights<float>& weights,
                                            std::span<const int32_t> tokens, int64_t rows,
                                            int64_t width, Protocol protocol,
                                            const StatsProgressFn& progress = {});

}  // namespace osp::eval
