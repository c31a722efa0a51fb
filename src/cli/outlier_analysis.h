// Where a model's 4-bit error comes from (`osp eval outliers`, and the demo's report): for every
// distinct quantized linear input of every layer (q_proj's, shared by k and v; o_proj's;
// gate_proj's, shared by up; down_proj's) and for K and V, excess kurtosis in both protocols
// (measurement.md §1.2, applied to the site), max |x|/RMS with its channel, the channels of
// largest mean |x|, and a4_ppl — the perplexity with only that input at `bits` (the quantizer of
// §3.5/§3.6/§3.7 that `osp eval quant` applies there); for every weight matrix, k⁺ over its rows,
// max |w|/RMS(row) with its row, and w4_ppl — only that weight at `bits`, RTN (§3.4).
//
// Passes (all on the plain-Llama form, §0): one FP pass with the statistics tap over the windows,
// one token-protocol pass over the same tokens, then one perplexity pass per site: 6·L
// activation sites + 7·L weights.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/result.h"
#include "io/model_file.h"
#include "ops/context.h"

namespace osp::cli {

struct OutlierSettings {
  int64_t window = 256, windows = 4, top = 3;
  int bits = 4;
  bool no_weights = false;  // skip the 7·L weight passes
};

// (passes done, passes in all, what the last one measured).
using OutlierProgressFn = std::function<void(int64_t, int64_t, const std::string&)>;

// {"fp_ppl", "bits", "windows", "window", "passes", "sites": [{"name", "kind": "activation",
// "kurtosis_token", "kurtosis_sequence", "max_over_rms", "max_channel", "top_channels", "a4_ppl"} |
// {"name", "kind": "weight", "kurtosis", "max_over_rms", "max_row", "w4_ppl"}]}, sites in layer
// order. tokens: at least windows·window (window already capped at the context).
Result<nlohmann::json> analyze_outliers(ops::Context& ctx, const io::LoadedModel& m, std::span<const int32_t> tokens,
                                        const OutlierSettings& settings, const OutlierProgressFn& progress = {});

// A site's relative PPL increase over FP (its a4_ppl or w4_ppl), or −1 when it has none.
double site_cost(const nlohmann::json& site, double fp_ppl);

}  // namespace osp::cli
