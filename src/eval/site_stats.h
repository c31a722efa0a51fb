// Statistics of what the 4-bit quantizers see: every distinct quantized linear input of every
// layer (q_proj's input, shared by k and v; o_proj's; gate_proj's, shared by up; down_proj's) and
// K (after RoPE) and V, observed through the forward tap. Per site: the mean of k⁺ over its
// vectors (measurement.md §1.4's statistic, applied to the site instead of the residual stream),
// the largest |x_j| / rms(x) with its channel, and the mean |x_j| of every channel.
//
//   SiteStatsTap tap(config);
//   model.forward(w, tokens, b, t, &tap);        // any number of forwards accumulate
//   const SiteStats& s = tap.site(layer, Site::kDown);
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/forward_tap.h"

namespace osp::eval {

enum class Site { kQkv, kAttnOut, kGateUp, kDown, kKey, kValue };
inline constexpr int kSitesPerLayer = 6;

// "model.layers.3.mlp.down_proj.input", "model.layers.3.self_attn.k" (K after RoPE), ...
std::string site_name(int layer, Site site);

struct SiteStats {
  double kurtosis_sum = 0;   // Σ k⁺ over the vectors with a defined value
  int64_t vectors = 0;       // those vectors
  int64_t skipped = 0;       // zero-variance vectors
  double max_ratio = 0;      // max |x_j| / rms(x)
  int64_t max_channel = -1;
  std::vector<double> abs_sum;  // Σ |x_j| per channel
  int64_t rows = 0;             // vectors seen (for mean |x_j|)

  double kurtosis() const { return vectors > 0 ? kurtosis_sum / double(vectors) : 0.0; }
  // The n channels of largest mean |x_j|, largest first: (channel, mean |x_j|).
  std::vector<std::pair<int64_t, double>> top_channels(int n) const;
};

class SiteStatsTap final : public model::ForwardTap {
 public:
  explicit SiteStatsTap(const model::ModelConfig& config);

  void linear_input(ops::Context& ctx, model::LinearInput site, int layer, TensorView x) override;
  void query_key(ops::Context& ctx, int layer, TensorView q, TensorView k) override;
  void value(ops::Context& ctx, int layer, TensorView v) override;

  const SiteStats& site(int layer, Site s) const { return stats_[size_t(layer * kSitesPerLayer + int(s))]; }

 private:
  void add(ops::Context& ctx, int layer, Site s, TensorView x);
  std::vector<SiteStats> stats_;
  std::vector<double> k_, ratio_;
  std::vector<int32_t> channel_;
};

}  // namespace osp::eval
