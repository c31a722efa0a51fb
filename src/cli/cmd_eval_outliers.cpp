// `osp eval outliers MODEL --data D [--json]`: where a model's 4-bit error comes from, site by
// site (cli/outlier_analysis.h), ranked by cost. With the defaults (4 windows of 256 tokens)
// SmolLM2-135M (L = 30) takes 392 forwards of 1,024 tokens.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "cli/commands.h"
#include "cli/model_tokenizer.h"
#include "cli/outlier_analysis.h"
#include "io/model_file.h"

namespace osp::cli {
namespace {

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

int run_outliers(OutlierOptions o) {
  auto m = io::load_model(o.model);
  if (!m) return fail(m.error().message);
  o.window = std::min(o.window, m->config.context);
  auto stream = model_eval_tokens(o.model, *m, o.tokenizer, o.data, o.split, uint64_t(o.windows * o.window));
  if (!stream) return fail(stream.error().message);
  const std::vector<int32_t>& tokens = *stream;

  ops::Context ctx = ops::Context::cpu();
  const OutlierSettings settings{o.window, o.windows, o.top, o.bits, o.no_weights};
  const auto t0 = Clock::now();
  auto analysis = analyze_outliers(ctx, *m, tokens, settings, [&](int64_t done, int64_t passes, const std::string& what) {
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    fmt::print(stderr, "\routliers: pass {}/{} ({:.0f} s, ~{:.0f} s left) {:<48}", done, passes, s,
               s / double(done) * double(passes - done), what);
    if (done == passes) fmt::print(stderr, "\n");
  });
  if (!analysis) return fail(analysis.error().message);
  const json& sites = (*analysis)["sites"];
  const double fp_ppl = (*analysis)["fp_ppl"];
  auto cost = [&](const json& e) { return site_cost(e, fp_ppl); };
  if (o.json) {
    fmt::print("{}\n", analysis->dump());
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
  const int64_t d = m->config.hidden;
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
