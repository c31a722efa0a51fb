// Per-site activation statistics (see site_stats.h).
#include "eval/site_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/row_stats.h"

namespace osp::eval {

std::string site_name(int layer, Site site) {
  static const char* kNames[] = {"self_attn.q_proj.input", "self_attn.o_proj.input", "mlp.gate_proj.input",
                                 "mlp.down_proj.input",    "self_attn.k",            "self_attn.v"};
  return fmt::format("model.layers.{}.{}", layer, kNames[int(site)]);
}

std::vector<std::pair<int64_t, double>> SiteStats::top_channels(int n) const {
  std::vector<int64_t> order(abs_sum.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min(order.size(), size_t(std::max(n, 0)));
  std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(k), order.end(),
                    [&](int64_t a, int64_t b) { return abs_sum[size_t(a)] > abs_sum[size_t(b)]; });
  std::vector<std::pair<int64_t, double>> out;
  for (size_t i = 0; i < k; ++i) out.emplace_back(order[i], rows > 0 ? abs_sum[size_t(order[i])] / double(rows) : 0.0);
  return out;
}

SiteStatsTap::SiteStatsTap(const model::ModelConfig& config) : stats_(size_t(config.layers * kSitesPerLayer)) {}

void SiteStatsTap::add(ops::Context& ctx, int layer, Site s, TensorView x) {
  const int64_t rows = x.rows(), d = x.cols();
  k_.resize(size_t(rows)), ratio_.resize(size_t(rows)), channel_.resize(size_t(rows));
  ops::activation_row_stats(ctx, TensorView::of(k_.data(), {rows}), TensorView::of(ratio_.data(), {rows}),
                            TensorView::of(channel_.data(), {rows}), x);
  SiteStats& st = stats_[size_t(layer * kSitesPerLayer + int(s))];
  for (int64_t i = 0; i < rows; ++i) {
    if (std::isnan(k_[size_t(i)])) {
      ++st.skipped;
      continue;
    }
    st.kurtosis_sum += std::max(k_[size_t(i)], 0.0);
    ++st.vectors;
    if (ratio_[size_t(i)] > st.max_ratio) st.max_ratio = ratio_[size_t(i)], st.max_channel = channel_[size_t(i)];
  }
  if (st.abs_sum.empty()) st.abs_sum.assign(size_t(d), 0.0);
  ops::column_abs_sum(ctx, TensorView::of(st.abs_sum.data(), {d}), x);
  st.rows += rows;
}

void SiteStatsTap::linear_input(ops::Context& ctx, model::LinearInput site, int layer, TensorView x) {
  switch (site) {
    case model::LinearInput::kQkv: add(ctx, layer, Site::kQkv, x); break;
    case model::LinearInput::kAttnOut: add(ctx, layer, Site::kAttnOut, x); break;
    case model::LinearInput::kGateUp: add(ctx, layer, Site::kGateUp, x); break;
    case model::LinearInput::kDown: add(ctx, layer, Site::kDown, x); break;
    case model::LinearInput::kHead: break;  // the head's input is never quantized (§3.2)
  }
}

void SiteStatsTap::query_key(ops::Context& ctx, int layer, TensorView /*q*/, TensorView k) { add(ctx, layer, Site::kKey, k); }
void SiteStatsTap::value(ops::Context& ctx, int layer, TensorView v) { add(ctx, layer, Site::kValue, v); }

}  // namespace osp::eval
