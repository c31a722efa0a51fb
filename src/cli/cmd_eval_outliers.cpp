// `osp eval outliers MODEL --data D [--json]`: where a model's 4-bit error comes from. For every
// distinct quantized linear input of every layer (q_proj's, shared by k and v; o_proj's;
// gate_proj's, shared by up; down_proj's) and for K and V: excess kurtosis in both protocols
// (measurement.md §1.2, applied to the site), max |x|/RMS with its channel, the channels of
// largest mean |x|, and a4_ppl — the perplexity with only that input at 4 bits (the quantizer of
// §3.5/§3.6/§3.7 that `osp eval quant` applies there). For every weight matrix: k⁺ over its rows,
// max |w|/RMS(row) with its row, and w4_ppl — only that weight at 4-bit RTN (§3.4).
//
// Passes (all on the plain-Llama form, §0): one FP pass with the statistics tap over the
// evaluation windows, one token-protocol pass over the same tokens, then one short perplexity
// pass per site: 6·L activation sites + 7·L weights. With the defaults (4 windows of 256 tokens)
// SmolLM2-135M (L = 30) takes 392 forwards of 1,024 tokens.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include "cli/commands.h"
#include "cli/model_tokenizer.h"
#include "eval/eval_data.h"
#include "eval/perplexity.h"
#include "eval/site_stats.h"
#include "io/model_file.h"
#include "model/llama.h"
#include "ops/row_stats.h"
#include "quant/fake_quant.h"
#include "quant/quantizer.h"
#include "quant/rotation.h"

namespace osp::cli {
namespace {

namespace fs = std::filesystem;
using eval::Site;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct OutlierOptions {
  std::string model, data, split = "val", tokenizer;
  int64_t window = 256, windows = 4, top = 3;
  int bits = 4;
  bool json = false, no_weights = false;
};

int fail(const std::string& message) {
  fmt::print(stderr, "osp eval outliers: {}\n", message);
  return 1;
}

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

int run_outliers(OutlierOptions o) {
  if (o.bits < 2 || o.bits > 8) return fail(fmt::format("--bits must lie in 2..8, got {}", o.bits));
  auto m = io::load_model(o.model);
  if (!m) return fail(m.error().message);
  o.window = std::min(o.window, m->config.context);
  std::optional<data::Tokenizer> tok;
  std::error_code ec;
  if (!fs::is_directory(o.data, ec)) {
    auto t = tokenizer_for_model(o.model, *m, o.tokenizer);
    if (!t) return fail(t.error().message);
    tok = std::move(*t);
  }
  auto stream = eval::load_eval_tokens({o.data, o.split, tok ? &*tok : nullptr, uint64_t(o.windows * o.window)});
  if (!stream) return fail(stream.error().message);
  const std::vector<int32_t>& tokens = *stream;
  if (int64_t(tokens.size()) < o.windows * o.window)
    return fail(fmt::format("{} windows of {} need {} tokens; the data has {}", o.windows, o.window,
                            o.windows * o.window, tokens.size()));

  ops::Context ctx = ops::Context::cpu();
  quant::PlainModel plain = quant::fold_to_plain(ctx, m->config, m->table, m->params.data());
  const model::ModelConfig& c = plain.config;
  const auto w = plain.weights();
  const int layers = int(c.layers);
  const int64_t d = c.hidden, f = c.ffn, qd = c.heads * c.head_dim(), kvd = c.kv_heads * c.head_dim();
  const int64_t passes = 2 + int64_t(layers) * (eval::kSitesPerLayer + (o.no_weights ? 0 : 7));
  const auto t0 = Clock::now();
  int64_t done = 0;
  auto progress = [&](const std::string& what) {
    ++done;
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    fmt::print(stderr, "\routliers: pass {}/{} ({:.0f} s, ~{:.0f} s left) {:<48}", done, passes, s,
               s / double(done) * double(passes - done), what);
    if (done == passes) fmt::print(stderr, "\n");
  };
  auto ppl = [&](model::ForwardTap* tap) -> Result<double> {
    auto r = eval::perplexity(ctx, c, w, tokens, o.window, tap);
    if (!r) return r.error();
    return r->ppl;
  };

  // Pass 1: FP perplexity with the statistics of every site in context (sequence protocol).
  eval::SiteStatsTap seq(c);
  auto fp = ppl(&seq);
  if (!fp) return fail(fp.error().message);
  progress("FP, sequence statistics");
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
  progress("token-protocol statistics");

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
        if (!p) return fail(p.error().message);
        e["a4_ppl"] = *p;
      }
      sites.push_back(std::move(e));
      progress(name);
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
        if (!q) return fail(q.error().message);
        e["w4_ppl"] = *q;
        sites.push_back(std::move(e));
        progress(name);
      }
  }

  const double fp_ppl = *fp;
  auto cost = [&](const json& e) {
    const json& v = e.contains("a4_ppl") ? e["a4_ppl"] : e["w4_ppl"];
    return v.is_number() ? v.get<double>() / fp_ppl - 1 : -1.0;
  };
  if (o.json) {
    fmt::print("{}\n", json{{"fp_ppl", fp_ppl}, {"bits", o.bits}, {"windows", o.windows}, {"window", o.window},
                            {"passes", passes}, {"sites", sites}}.dump());
    return 0;
  }
  std::vector<const json*> ranked;
  for (const auto& e : sites) ranked.push_back(&e);
  std::stable_sort(ranked.begin(), ranked.end(), [&](const json* a, const json* b) { return cost(*a) > cost(*b); });
  fmt::print("FP perplexity {:.4f} ({} windows of {}); each row: only that site at {} bits\n", fp_ppl, o.windows,
             o.window, o.bits);
  fmt::print("{:<44} {:>9} {:>9} {:>9} {:>9} {:>8}  {}\n", "site", "PPL", "cost", "kurt tok", "kurt seq", "max/RMS",
             "where (top channels by mean |x|)");
  for (const json* e : ranked) {
    const bool act = (*e)["kind"] == "activation";
    const json& p = act ? (*e)["a4_ppl"] : (*e)["w4_ppl"];
    const std::string where =
        act ? fmt::format("ch {}; top {}", (*e)["max_channel"].get<int64_t>(),
                          [&] {
                            std::string s;
                            for (const auto& t : (*e)["top_channels"]) s += fmt::format("{} ", t["channel"].get<int64_t>());
                            return s;
                          }())
            : fmt::format("row {}", (*e)["max_row"].get<int64_t>());
    fmt::print("{:<44} {:>9} {:>8.2f}% {:>9.3f} {:>9} {:>8.1f}  {}\n", (*e)["name"].get<std::string>(),
               p.is_number() ? fmt::format("{:.3f}", p.get<double>()) : "n/a", 100 * cost(*e),
               act ? (*e)["kurtosis_token"].get<double>() : (*e)["kurtosis"].get<double>(),
               act ? fmt::format("{:.3f}", (*e)["kurtosis_sequence"].get<double>()) : "-",
               (*e)["max_over_rms"].get<double>(), where);
  }
  fmt::print("(weights: kurt tok is k⁺ over the rows; kurtosis near √(24/D)/√(2π) is the estimator's floor, "
             "{:.2f} at D = {})\n", std::sqrt(24.0 / double(d)) / std::sqrt(2 * M_PI), d);
  return 0;
}

}  // namespace

void register_eval_outliers(CLI::App& eval, CommandRun& run) {
  auto o = std::make_shared<OutlierOptions>();
  CLI::App* cmd = eval.add_subcommand("outliers", "Where 4-bit error comes from: per-site statistics and one-site-at-a-time 4-bit PPL");
  cmd->add_option("model", o->model, "Model file, GGUF, checkpoint, run or Hugging Face folder")->required();
  cmd->add_option("--data", o->data, "Prepared shards folder or a text file")->required();
  cmd->add_option("--split", o->split, "Split of a shards folder (default val)");
  cmd->add_option("--tokenizer", o->tokenizer, "tokenizer.json or GGUF to encode a text --data (default: the model's)");
  cmd->add_option("--window", o->window, "Window length (default 256, capped at the context)");
  cmd->add_option("--windows", o->windows, "Windows per pass (default 4)");
  cmd->add_option("--bits", o->bits, "Bits of the one quantized site (default 4)");
  cmd->add_option("--top", o->top, "Channels listed per site (default 3)");
  cmd->add_flag("--no-weights", o->no_weights, "Skip the weight passes");
  cmd->add_flag("--json", o->json, "Print JSON for machines");
  cmd->callback([o, &run] { run = [o] { return run_outliers(*o); }; });
}

}  // namespace osp::cli
