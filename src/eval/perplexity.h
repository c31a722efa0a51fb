// Perplexity with the paper's protocol (measurement.md §2): n = ⌊N/W⌋ non-overlapping windows of
// W tokens (tail dropped, no BOS), each an independent causal sequence from position 0; the
// logits at positions 0..W−2 predict tokens 1..W−1; PPL = exp(Σ NLL / (n·(W−1))).
#pragma once
#include <cstdint>
#include <functional>
#include <span>

#include "core/result.h"
#include "model/config.h"
#include "model/forward_tap.h"
#include "model/params.h"
#include "ops/context.h"

namespace osp::eval {

struct PerplexityResult {
  double ppl = 0;
  double mean_nll = 0;    // Σ NLL / scored
  int64_t windows = 0;    // n
  int64_t window = 0;     // W
  int64_t scored = 0;     // n·(W−1)
};

// Called after each batch of windows with (windows done, windows total).
using ProgressFn = std::function<void(int64_t, int64_t)>;

// tokens: the evaluation stream. window: W (already capped at the context by the caller).
// tap: optional (fake quantization); it sees every window's forward. Error when N < W.
// T = float is the protocol; T = double serves reference cross-checks.
template <class T>
Result<PerplexityResult> perplexity(ops::Context& ctx, const model::ModelConfig& config,
                                    const model::LlamaWeights<T>& weights, std::span<const int32_t> tokens,
                                    int64_t window, model::ForwardTap* tap = nullptr,
                                    const ProgressFn& progress = {});

}  // namespace osp::eval
