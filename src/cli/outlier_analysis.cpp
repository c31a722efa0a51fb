// The outlier analysis (see outlier_analysis.h).
#include "cli/outlier_analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "eval/perplexity.h"
#include "eval/site_stats.h"
#include "model/llama.h"
#include "ops/row_stats.h"
#include "quant/fake_quant.h"
#include "quant/quantizer.h"
#include "quant/rotation.h"

namespace osp::cli {
namespace {

using eval::Site;
using nlohmann::json;

// Forwards one site's hooks to the inner (fake-quantization) tap and no others.
class OneSiteTap final : public model::ForwardTap {
 public:
  OneSiteTap(model::ForwardTap& inner, int layer, Site site) : inner_(inner), layer_(layer), site_(site) {}
  Device device() const override { return inner_.device(); }
  void linear_input(ops::Context& ctx, model::LinearInput s, int layer, TensorView x) override {
    static const Site kOf[] = {Site::kQkv, Site::kAttnOut, Site::kGateUp, Site::kDown};
    if (layer == layer_ && s != model::LinearInput::kHead && kOf[int(s)] == site_) inner_.linear_input(ctx, s, layer, x);
  }
  void query_key(ops::Context& ctx, int layer, TensorView q, TensorView k) override {
    if (layer == layer_ && site_ == Site::kKey) inner_.query_key(ctx, layer, q, k);
  }
  void value(ops::Context& ctx, int layer, TensorView v) override {
    if (layer == layer_ && site_ == Site::kValue) inner_.value(ctx, layer, v);
  }

 private:
  model::ForwardTap& inner_;
  int layer_;
  Site site_;
};

struct WeightRef {
  const char* name;
  float* (*get)(const model::LayerWeights<float>&);
  int64_t rows, cols;
};

json top_json(const eval::SiteStats& s, int n) {
  json a = json::array();
  for (const auto& [ch, mean] : s.top_channels(n)) a.push_back({{"channel", ch}, {"mean_abs", mean}});
  return a;
}

// k⁺ mean over the rows of a weight, and its largest |w|/RMS(row) with the row.
json weight_stats(ops::Context& ctx, const float* w, int64_t rows, int64_t cols) {
  std::vector<double> k(static_cast<size_t>(rows)), ratio(static_cast<size_t>(rows));
  std::vector<int32_t> ch(static_cast<size_t>(rows));
  ops::activation_row_stats(ctx, TensorView::of(k.data(), {rows}), TensorView::of(ratio.data(), {rows}),
                            TensorView::of(ch.data(), {rows}), TensorView::of(w, {rows, cols}));
  double sum = 0, best = 0;
  int64_t n = 0, best_row = -1;
  for (int64_t r = 0; r < rows; ++r) {
    if (!std::isnan(k[size_t(r)])) sum += std::max(k[size_t(r)], 0.0), ++n;
    if (ratio[size_t(r)] > best) best = ratio[size_t(r)], best_row = r;
  }
  return {{"kurtosis", n > 0 ? sum / double(n) : 0.0}, {"max_over_rms", best}, {"max_row", best_row}};
}

}  // namespace

Result<json> analyze_outliers(ops::Context& ctx, const io::LoadedModel& m, std::span<const int32_t> tokens,
                              const OutlierSettings& o, const OutlierProgressFn& progress) {
  if (o.bits < 2 || o.bits > 8) return make_error("--bits must lie in 2..8, got {}", o.bits);
  if (int64_t(tokens.size()) < o.windows * o.window)
    return make_error("{} windows of {} need {} tokens; the data has {}", o.windows, o.window, o.windows * o.window,
                      tokens.size());
  tokens = tokens.first(size_t(o.windows * o.window));
  quant::PlainModel plain = quant::fold_to_plain(ctx, m.config, m.table, m.params.data());
  const model::ModelConfig& c = plain.config;
  const auto w = plain.weights();
  const int layers = int(c.layers);
  const int64_t d = c.hidden, f = c.ffn, qd = c.heads * c.head_dim(), kvd = c.kv_heads * c.head_dim();
  const int64_t passes = 2 + int64_t(layers) * (eval::kSitesPerLayer + (o.no_weights ? 0 : 7));
  int64_t done = 0;
  auto step = [&](const std::string& what) {
    if (progress) progress(++done, passes, what);
  };
  auto ppl = [&](model::ForwardTap* tap) -> Result<double> {
    auto r = eval::perplexity(ctx, c, w, tokens, o.window, tap);
    if (!r) return r.error();
    return r->ppl;
  };

  // Pass 1: FP perplexity with the statistics of every site in context (sequence protocol).
  eval::SiteStatsTap seq(c);
  auto fp = ppl(&seq);
  if (!fp) return make_error("{}", fp.error().message);
  step("FP, sequence statistics");
  // Pass 2: every token alone at position 0 (the paper's token protocol), in batches.
  eval::SiteStatsTap tokstats(c);
  {
    const int64_t batch = std::min<int64_t>(256, int64_t(tokens.size()));
    model::Llama<float> net(ctx, c, batch, 1, model::ForwardMode::kInference);
    for (int64_t i = 0; i < int64_t(tokens.size()); i += batch) {
      const int64_t b = std::min<int64_t>(batch, int64_t(tokens.size()) - i);
      net.forward(w, tokens.data() + i, b, 1, &tokstats);
    }
  }
  step("token-protocol statistics");

  // Activation sites: only that input at `bits` (K: the per-head Q/K Hadamard, then K, as §3.7).
  auto qk = quant::Hadamard::create(c.head_dim());
  quant::FakeQuantTap q4(c, {o.bits, qk ? o.bits : 16}, std::nullopt,
                         qk ? std::optional<quant::Hadamard>(std::move(*qk)) : std::nullopt);
  json sites = json::array();
  for (int l = 0; l < layers; ++l)
    for (int s = 0; s < eval::kSitesPerLayer; ++s) {
      const Site site = Site(s);
      const std::string name = eval::site_name(l, site);
      json e = {{"name", name}, {"kind", "activation"}};
      const eval::SiteStats& a = seq.site(l, site);
      e["kurtosis_token"] = tokstats.site(l, site).kurtosis();
      e["kurtosis_sequence"] = a.kurtosis();
      e["max_over_rms"] = a.max_ratio;
      e["max_channel"] = a.max_channel;
      e["top_channels"] = top_json(a, int(o.top));
      if ((site == Site::kKey || site == Site::kValue) && !qk) {
        e["a4_ppl"] = nullptr;  // KV quantization needs a Hadamard of size Dh
      } else {
        OneSiteTap only(q4, l, site);
        auto p = ppl(&only);
        if (!p) return make_error("{}", p.error().message);
        e["a4_ppl"] = *p;
      }
      sites.push_back(std::move(e));
      step(name);
    }
  // Weights: only that matrix at `bits`, RTN with the clip search; restored afterwards.
  if (!o.no_weights) {
    const WeightRef kWeights[] = {
        {"self_attn.q_proj", [](const model::LayerWeights<float>& x) { return x.q; }, qd, d},
        {"self_attn.k_proj", [](const model::LayerWeights<float>& x) { return x.k; }, kvd, d},
        {"self_attn.v_proj", [](const model::LayerWeights<float>& x) { return x.v; }, kvd, d},
        {"self_attn.o_proj", [](const model::LayerWeights<float>& x) { return x.o; }, d, qd},
        {"mlp.gate_proj", [](const model::LayerWeights<float>& x) { return x.gate; }, f, d},
        {"mlp.up_proj", [](const model::LayerWeights<float>& x) { return x.up; }, f, d},
        {"mlp.down_proj", [](const model::LayerWeights<float>& x) { return x.down; }, d, f}};
    std::vector<float> saved;
    for (int l = 0; l < layers; ++l)
      for (const WeightRef& r : kWeights) {
        float* p = r.get(w.layers[size_t(l)]);
        const size_t n = size_t(r.rows * r.cols);
        const std::string name = fmt::format("model.layers.{}.{}.weight", l, r.name);
        json e = weight_stats(ctx, p, r.rows, r.cols);
        e["name"] = name, e["kind"] = "weight";
        saved.assign(p, p + n);
        quant::rtn_quantize_weight(p, r.rows, r.cols, o.bits);
        auto q = ppl(nullptr);
        std::memcpy(p, saved.data(), n * sizeof(float));
        if (!q) return make_error("{}", q.error().message);
        e["w4_ppl"] = *q;
        sites.push_back(std::move(e));
        step(name);
      }
  }

  return json{{"fp_ppl", *fp}, {"bits", o.bits}, {"windows", o.windows}, {"window", o.window}, {"passes", passes},
              {"sites", sites}};
}

double site_cost(const json& site, double fp_ppl) {
  const json& v = site.contains("a4_ppl") ? site["a4_ppl"] : site["w4_ppl"];
  return v.is_number() ? v.get<double>() / fp_ppl - 1 : -1.0;
}

}  // namespace osp::cli
