// Per-run evaluation for the demo, its table and report.
#include "cli/demo_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "cli/model_tokenizer.h"
#include "cli/outlier_analysis.h"
#include "eval/kurtosis.h"
#include "eval/perplexity.h"
#include "core/atomic_file.h"
#include "io/model_file.h"
#include "model/forward_tap.h"
#include "model/generate.h"
#include "model/llama.h"
#include "ops/row_stats.h"
#include "quant/ptq.h"
#include "report/report.h"
#include "report/run_data.h"

namespace osp::cli {
namespace {

namespace fs = std::filesystem;

// Per-channel max |x| of hidden state `index` over every token it sees.
class ChannelMaxTap : public model::ForwardTap {
 public:
  ChannelMaxTap(int index, int64_t dim) : index_(index), max_(size_t(dim), 0.0) {}
  void hidden_state(ops::Context& ctx, int index, TensorView x) override {
    if (index == index_) ops::column_abs_max(ctx, TensorView::of(max_.data(), {int64_t(max_.size())}), x);
  }
  const std::vector<double>& max() const { return max_; }

 private:
  int index_;
  std::vector<double> max_;
};

// W4A4KV4 RTN with the given rotation; bits override W, A and KV (the split rows: one at 4, the
// others at 16).
Result<double> quantized_ppl(ops::Context& ctx, const io::LoadedModel& m, quant::Rotate rotate, std::span<const int32_t> tokens,
                             int64_t window, int w_bits = 4, int a_bits = 4, int kv_bits = 4) {
  quant::PtqSettings s;
  s.rotate = rotate;
  s.w_bits = w_bits, s.a_bits = a_bits, s.kv_bits = kv_bits;
  auto q = quant::prepare_ptq(ctx, m.config, m.table, m.params.data(), s, {});
  if (!q) return q.error();
  auto r = eval::perplexity(ctx, q->model.config, q->model.weights(), tokens, window, q->tap.get());
  if (!r) return r.error();
  return r->ppl;
}

// The demo's prompt: plain English that the corpus (the King James Bible, Jane Austen) can continue.
constexpr const char* kDemoPrompt = "It was a fine morning, and";

// Greedy continuations of kDemoPrompt at FP and at W4A4KV4 RTN (what osp generate --w 4 --a 4
// --kv 4 prints): {"prompt", "fp", "w4a4kv4"}.
Result<nlohmann::json> continuations(ops::Context& ctx, const fs::path& run_dir, const io::LoadedModel& m) {
  auto tok = tokenizer_for_model(run_dir, m, "");
  if (!tok) return tok.error();
  auto prompt = tok->encode(kDemoPrompt, /*add_special_tokens=*/true);
  if (!prompt) return prompt.error();
  model::GenerateSettings g;
  g.max_tokens = std::min<int64_t>(40, m.config.context - int64_t(prompt->size()));
  g.sampling.temperature = 0;
  if (auto eos = tok->eos_id()) g.eos = int32_t(*eos);
  const std::vector<int32_t> ids(prompt->begin(), prompt->end());
  auto text = [&](const model::GenerateResult& r) {
    return tok->decode(std::vector<data::TokenId>(r.tokens.begin(), r.tokens.end()));
  };
  const auto w = model::LlamaWeights<float>::bind(m.table, const_cast<float*>(m.params.data()));
  const auto fp = model::generate<float>(ctx, m.config, w, ids, g, nullptr, {});
  auto q = quant::prepare_ptq(ctx, m.config, m.table, m.params.data(), quant::PtqSettings{}, {});
  if (!q) return q.error();
  const auto q4 = model::generate<float>(ctx, q->model.config, q->model.weights(), ids, g, q->tap.get(), {});
  return nlohmann::json{{"prompt", kDemoPrompt}, {"fp", text(fp)}, {"w4a4kv4", text(q4)}};
}

}  // namespace

Result<DemoResult> evaluate_demo_run(const DemoVariant& v, const fs::path& run_dir, const data::TokenDataset& val,
                                     const std::string& command) {
  auto m = io::load_model(run_dir);
  if (!m) return m.error();
  const auto w = model::LlamaWeights<float>::bind(m->table, m->params.data());
  std::vector<data::TokenId> raw(val.tokens());
  val.read(0, val.tokens(), raw.data());
  const std::vector<int32_t> tokens(raw.begin(), raw.end());
  const int64_t window = std::min<int64_t>(m->config.context, 128);

  ops::Context ctx = ops::Context::cpu();
  auto fp = eval::perplexity(ctx, m->config, w, tokens, window);
  if (!fp) return fp.error();
  auto rtn = quantized_ppl(ctx, *m, quant::Rotate::kNone, tokens, window);
  if (!rtn) return rtn.error();
  auto had = quantized_ppl(ctx, *m, quant::Rotate::kFfn, tokens, window);
  if (!had) return had.error();
  // Where the RTN row's error comes from: weights, activations or KV alone at 4 bits.
  auto w4 = quantized_ppl(ctx, *m, quant::Rotate::kNone, tokens, window, 4, 16, 16);
  auto a4 = quantized_ppl(ctx, *m, quant::Rotate::kNone, tokens, window, 16, 4, 16);
  auto kv4 = quantized_ppl(ctx, *m, quant::Rotate::kNone, tokens, window, 16, 16, 4);
  for (const auto* r : {&w4, &a4, &kv4})
    if (!*r) return r->error();
  // Kurtosis on the first 16 windows of 128 validation tokens (2,048 token vectors per state).
  const int64_t rows = std::min<int64_t>(16, int64_t(tokens.size()) / window);
  auto kt = eval::measure_activations(ctx, m->config, w, tokens, rows, window, eval::Protocol::kToken);
  if (!kt) return kt.error();
  auto ks = eval::measure_activations(ctx, m->config, w, tokens, rows, window, eval::Protocol::kSequence);
  if (!ks) return ks.error();
  // Per-channel max |activation| of the last hidden state (the final norm's output, §1.3).
  ChannelMaxTap tap(int(m->config.layers), m->config.hidden);
  model::Llama<float> fwd(ctx, m->config, rows, window, model::ForwardMode::kInference);
  fwd.forward(w, tokens.data(), rows, window, &tap);

  nlohmann::json j = {{"name", v.name}, {"paper_row", v.paper_row}, {"command", command},
                      {"ppl_fp", fp->ppl}, {"ppl_w4a4kv4_rtn", *rtn}, {"ppl_w4a4kv4_ffn_had", *had},
                      {"ppl_w4a16kv16", *w4}, {"ppl_w16a4kv16", *a4}, {"ppl_w16a16kv4", *kv4},
                      {"kurtosis_token", kt->average}, {"kurtosis_sequence", ks->average},
                      {"max_act_ratio", ks->max_ratio}, {"max_act_state", ks->max_ratio_state},
                      {"max_act_channel", ks->max_ratio_state >= 0 ? ks->states[size_t(ks->max_ratio_state)].max_channel : -1},
                      {"per_state_kurtosis", nlohmann::json::array()},           // token protocol
                      {"per_state_kurtosis_sequence", nlohmann::json::array()},
                      {"last_state_channel_max", tap.max()}, {"eval_tokens", tokens.size()}, {"window", window}};
  // The three sites whose 4-bit quantization alone costs most (osp eval outliers).
  OutlierSettings os;
  os.window = window, os.windows = std::max<int64_t>(1, std::min<int64_t>(16, int64_t(tokens.size()) / window));
  auto outliers = analyze_outliers(ctx, *m, tokens, os);
  if (!outliers) return outliers.error();
  std::vector<nlohmann::json> sites((*outliers)["sites"].begin(), (*outliers)["sites"].end());
  const double site_fp = (*outliers)["fp_ppl"];
  std::stable_sort(sites.begin(), sites.end(),
                   [&](const auto& a, const auto& b) { return site_cost(a, site_fp) > site_cost(b, site_fp); });
  nlohmann::json costliest = nlohmann::json::array();
  for (size_t i = 0; i < std::min<size_t>(3, sites.size()); ++i)
    costliest.push_back({{"name", sites[i]["name"]}, {"cost", site_cost(sites[i], site_fp)},
                         {"kurtosis_token", sites[i].contains("kurtosis_token") ? sites[i]["kurtosis_token"] : sites[i]["kurtosis"]}});
  j["costliest_sites"] = costliest;
  auto continued = continuations(ctx, run_dir, *m);
  if (!continued) return continued.error();
  j["continuation"] = *continued;
  for (const auto& s : kt->states) j["per_state_kurtosis"].push_back(s.kurtosis);
  for (const auto& s : ks->states) j["per_state_kurtosis_sequence"].push_back(s.kurtosis);
  const std::string text = j.dump(2) + "\n";
  OSP_TRY(write_file_atomically(run_dir / "eval.json", std::as_bytes(std::span(text))));
  return DemoResult{v.name, j};
}

std::string format_demo_table(const std::vector<DemoResult>& results) {
  std::string s = fmt::format("{:<14} {:>9} {:>11} {:>11} {:>11} {:>11} {:>10} {:>10} {:>9}\n", "variant", "FP PPL",
                              "W4A4KV4", "Δ", "+FFN Had", "Δ", "kurt tok", "kurt seq", "max/RMS");
  for (const auto& r : results) {
    const auto& j = r.json;
    const double fp = j["ppl_fp"], q = j["ppl_w4a4kv4_rtn"], h = j["ppl_w4a4kv4_ffn_had"];
    s += fmt::format("{:<14} {:>9.2f} {:>11.2f} {:>10.1f}% {:>11.2f} {:>10.1f}% {:>10.3f} {:>10.3f} {:>9.1f}\n", r.name,
                     fp, q, 100 * (q / fp - 1), h, 100 * (h / fp - 1), j["kurtosis_token"].get<double>(),
                     j["kurtosis_sequence"].get<double>(), j["max_act_ratio"].get<double>());
  }
  s += "(Δ: perplexity increase over FP; kurtosis: mean excess kurtosis k⁺ over hidden states, measurement.md §1)\n";
  s += fmt::format("\n{:<14} {:>11} {:>11} {:>11}   (the RTN Δ split: one of W, A, KV at 4 bits, the others at 16)\n",
                   "variant", "W4 only", "A4 only", "KV4 only");
  for (const auto& r : results) {
    const auto& j = r.json;
    const double fp = j["ppl_fp"];
    auto delta = [&](const char* key) {
      return j.contains(key) ? fmt::format("{:.1f}%", 100 * (j[key].get<double>() / fp - 1)) : std::string("-");
    };
    s += fmt::format("{:<14} {:>11} {:>11} {:>11}\n", r.name, delta("ppl_w4a16kv16"), delta("ppl_w16a4kv16"),
                     delta("ppl_w16a16kv4"));
  }
  return s;
}

}  // namespace osp::cli

namespace osp::cli {

Status write_demo_report(const std::filesystem::path& out, const std::vector<DemoResult>& results) {
  std::vector<report::RunData> runs;
  for (const auto& r : results) {
    auto run = report::read_run(out / "runs" / r.name);
    if (!run) return run.error();
    runs.push_back(std::move(*run));
  }
  report::ReportOptions o;
  o.title = "osp demo: Adam vs OSP at demo scale";
  o.command = results.empty() ? "osp demo" : results.front().json.value("command", "osp demo");
  return report::write_text_file(out / "report.html", report::render_report(runs, o));
}

}  // namespace osp::cli
