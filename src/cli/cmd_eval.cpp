// osp eval: the measurements of measurement.md on a model file, checkpoint or run folder.
//   osp eval ppl MODEL --data SHARDS_DIR|TEXT [--tokenizer T.json] [--window 2048]
//   osp eval kurtosis MODEL --data ... [--protocol token|sequence] [--rows R --width W] [--json]
//   osp eval quant MODEL --data ... --w 4 --a 4 --kv 4 [--rotate none|ffn|full] [--weights rtn|gptq]
//   osp eval table MODEL --data ...      (FP, RTN, + FFN Had, + GPTQ, + QuaRot at W4A4KV4)
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/model_tokenizer.h"
#include "eval/eval_data.h"
#include "eval/kurtosis.h"
#include "eval/perplexity.h"
#include "io/model_file.h"
#include "quant/ptq.h"

namespace osp::cli {
namespace {

namespace fs = std::filesystem;

struct EvalOptions {
  std::string model, data, split = "val", tokenizer, calib, calib_split = "train";
  int64_t window = 2048, rows = 128, width = 2048, max_windows = 0, calib_windows = 128;
  std::string protocol = "token", rotate = "none", weights = "rtn";
  int w_bits = 4, a_bits = 4, kv_bits = 4;
  bool json = false, no_center_embed = false;
  uint64_t seed = 0;
};

int fail(const std::string& message) {
  fmt::print(stderr, "osp eval: {}\n", message);
  return 1;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Caps a length at the model's context with a notice (§1.1, §2).
int64_t cap_at_context(int64_t n, const model::ModelConfig& c, const char* what) {
  if (n <= c.context) return n;
  fmt::print(stderr, "note: {} {} capped at the model's context {}\n", what, n, c.context);
  return c.context;
}

Result<std::vector<int32_t>> eval_tokens(const EvalOptions& o, const io::LoadedModel& m, uint64_t max_tokens) {
  return model_eval_tokens(o.model, m, o.tokenizer, o.data, o.split, max_tokens);
}

// GPTQ calibration stream: --calib, else the train split of a shards --data (never its val split).
Result<std::vector<int32_t>> calib_tokens(const EvalOptions& o, const io::LoadedModel& m) {
  std::string path = o.calib;
  std::error_code ec;
  if (path.empty()) {
    if (!fs::is_directory(o.data, ec))
      return make_error("--weights gptq with a text --data needs --calib (calibration data, not the evaluation text)");
    path = o.data;
  }
  return model_eval_tokens(o.model, m, o.tokenizer, path, o.calib_split, 0);
}

eval::ProgressFn window_progress(const char* what) {
  return [what, t0 = std::chrono::steady_clock::now()](int64_t done, int64_t total) {
    fmt::print(stderr, "\r{}: window {}/{} ({:.1f} s)", what, done, total, seconds_since(t0));
    if (done == total) fmt::print(stderr, "\n");
  };
}

Result<eval::PerplexityResult> run_ppl(ops::Context& ctx, const io::LoadedModel& m, const EvalOptions& o,
                                       const std::vector<int32_t>& tokens, const quant::PtqSettings* q,
                                       const std::vector<int32_t>& calib, const char* label) {
  const int64_t window = std::min(o.window, m.config.context);
  if (q == nullptr) {
    const auto w = model::LlamaWeights<float>::bind(m.table, const_cast<float*>(m.params.data()));
    return eval::perplexity<float>(ctx, m.config, w, tokens, window, nullptr, window_progress(label));
  }
  auto qm = quant::prepare_ptq(ctx, m.config, m.table, m.params.data(), *q, calib,
                               [](const std::string& s) { fmt::print(stderr, "{}\n", s); });
  if (!qm) return qm.error();
  for (const auto& n : qm->notes) fmt::print(stderr, "warning: {}\n", n);
  auto r = eval::perplexity(ctx, qm->model.config, qm->model.weights(), tokens, window, qm->tap.get(),
                            window_progress(label));
  if (r && qm->tap->constant_groups() > 0)
    fmt::print(stderr, "note: {} constant per-head groups left exact (spec §3.6)\n", qm->tap->constant_groups());
  return r;
}

struct Loaded {
  io::LoadedModel model;
  std::vector<int32_t> tokens;
};

Result<Loaded> load_for_ppl(EvalOptions& o) {
  auto m = io::load_model(o.model);
  if (!m) return m.error();
  o.window = cap_at_context(o.window, m->config, "window");
  const uint64_t max = o.max_windows > 0 ? uint64_t(o.max_windows * o.window) : 0;
  auto t = eval_tokens(o, *m, max);
  if (!t) return t.error();
  return Loaded{std::move(*m), std::move(*t)};
}

quant::PtqSettings ptq_settings(const EvalOptions& o, const model::ModelConfig& c) {
  quant::PtqSettings s;
  s.w_bits = o.w_bits, s.a_bits = o.a_bits, s.kv_bits = o.kv_bits;
  s.center_embed = !o.no_center_embed;
  s.seed = o.seed;
  s.calib_windows = o.calib_windows;
  s.calib_len = std::min<int64_t>(2048, c.context);
  return s;
}

void print_ppl(const eval::PerplexityResult& r, const std::string& settings, bool json) {
  if (json) {
    fmt::print("{}\n", nlohmann::json{{"ppl", r.ppl}, {"mean_nll", r.mean_nll}, {"windows", r.windows},
                                      {"window", r.window}, {"scored", r.scored}, {"settings", settings}}.dump());
    return;
  }
  fmt::print("perplexity {:.4f}  ({} windows of {}, {} tokens scored; {})\n", r.ppl, r.windows,
             r.window, r.scored, settings);
}

int cmd_ppl(EvalOptions o) {
  auto l = load_for_ppl(o);
  if (!l) return fail(l.error().message);
  ops::Context ctx = ops::Context::cpu();
  auto r = run_ppl(ctx, l->model, o, l->tokens, nullptr, {}, "ppl");
  if (!r) return fail(r.error().message);
  print_ppl(*r, "fp32, unquantized", o.json);
  return 0;
}

int cmd_quant(EvalOptions o) {
  auto rot = quant::parse_rotate(o.rotate);
  if (!rot) return fail(rot.error().message);
  auto wm = quant::parse_weight_method(o.weights);
  if (!wm) return fail(wm.error().message);
  auto l = load_for_ppl(o);
  if (!l) return fail(l.error().message);
  quant::PtqSettings s = ptq_settings(o, l->model.config);
  s.rotate = *rot, s.weights = *wm;
  std::vector<int32_t> calib;
  if (s.weights == quant::WeightMethod::kGptq && s.w_bits < 16) {
    auto c = calib_tokens(o, l->model);
    if (!c) return fail(c.error().message);
    calib = std::move(*c);
  }
  ops::Context ctx = ops::Context::cpu();
  auto r = run_ppl(ctx, l->model, o, l->tokens, &s, calib, "quant");
  if (!r) return fail(r.error().message);
  print_ppl(*r, fmt::format("W{}A{}KV{}, rotate {}, weights {}", s.w_bits, s.a_bits, s.kv_bits,
                            o.rotate, o.weights), o.json);
  return 0;
}

int cmd_table(EvalOptions o) {
  auto l = load_for_ppl(o);
  if (!l) return fail(l.error().message);
  std::vector<int32_t> calib;
  std::string calib_error;
  if (auto c = calib_tokens(o, l->model); c) calib = std::move(*c);
  else calib_error = c.error().message;
  ops::Context ctx = ops::Context::cpu();
  // split: which of W, A, KV the row quantizes (the others stay at 16 bits), RTN without rotation:
  // where the 4-bit error of the RTN row comes from.
  enum Split { kAll, kW, kA, kKv };
  struct Row { std::string name; bool quant; quant::Rotate rot; quant::WeightMethod wm; Split split; };
  const std::vector<Row> rows = {
      {"FP (16-16-16)", false, quant::Rotate::kNone, quant::WeightMethod::kRtn, kAll},
      {"RTN", true, quant::Rotate::kNone, quant::WeightMethod::kRtn, kAll},
      {"+ FFN Had", true, quant::Rotate::kFfn, quant::WeightMethod::kRtn, kAll},
      {"+ GPTQ", true, quant::Rotate::kFfn, quant::WeightMethod::kGptq, kAll},
      {"+ QuaRot", true, quant::Rotate::kFull, quant::WeightMethod::kGptq, kAll},
      {fmt::format("W{}A16KV16", o.w_bits), true, quant::Rotate::kNone, quant::WeightMethod::kRtn, kW},
      {fmt::format("W16A{}KV16", o.a_bits), true, quant::Rotate::kNone, quant::WeightMethod::kRtn, kA},
      {fmt::format("W16A16KV{}", o.kv_bits), true, quant::Rotate::kNone, quant::WeightMethod::kRtn, kKv}};
  nlohmann::json out = nlohmann::json::array();
  std::vector<std::pair<std::string, std::string>> lines;
  for (const Row& row : rows) {
    std::string cell;
    if (row.wm == quant::WeightMethod::kGptq && !calib_error.empty()) {
      cell = "n/a: " + calib_error;
    } else {
      quant::PtqSettings s = ptq_settings(o, l->model.config);
      s.rotate = row.rot, s.weights = row.wm;
      if (row.split != kAll) {
        s.w_bits = row.split == kW ? o.w_bits : 16;
        s.a_bits = row.split == kA ? o.a_bits : 16;
        s.kv_bits = row.split == kKv ? o.kv_bits : 16;
      }
      auto r = run_ppl(ctx, l->model, o, l->tokens, row.quant ? &s : nullptr, calib, row.name.c_str());
      cell = r ? fmt::format("{:.2f}", r->ppl) : "n/a: " + r.error().message;
      out.push_back({{"row", row.name}, {"ppl", r ? nlohmann::json(r->ppl) : nlohmann::json(nullptr)}});
    }
    lines.emplace_back(row.name, cell);
  }
  if (o.json) {
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("perplexity at W{}A{}KV{} ({} windows of {})\n", o.w_bits, o.a_bits,
             o.kv_bits, int64_t(l->tokens.size()) / o.window, o.window);
  for (const auto& [name, cell] : lines) fmt::print("  {:<14} {}\n", name, cell);
  fmt::print("  (the last three rows quantize one of W, A, KV alone, RTN without rotation)\n");
  return 0;
}

int cmd_kurtosis(EvalOptions o) {
  auto proto = eval::parse_protocol(o.protocol);
  if (!proto) return fail(proto.error().message);
  auto m = io::load_model(o.model);
  if (!m) return fail(m.error().message);
  o.width = cap_at_context(o.width, m->config, "width");
  auto t = eval_tokens(o, *m, uint64_t(o.rows * o.width));
  if (!t) return fail(t.error().message);
  const auto w = model::LlamaWeights<float>::bind(m->table, m->params.data());
  const auto t0 = std::chrono::steady_clock::now();
  ops::Context ctx = ops::Context::cpu();
  auto s = eval::measure_activations(ctx, m->config, w, *t, o.rows, o.width, *proto,
                                     [&](int64_t done, int64_t total) {
                                       fmt::print(stderr, "\rkurtosis: {}/{} ({:.1f} s)", done, total, seconds_since(t0));
                                       if (done == total) fmt::print(stderr, "\n");
                                     });
  if (!s) return fail(s.error().message);
  if (o.json) {
    nlohmann::json states = nlohmann::json::array();
    for (const auto& st : s->states)
      states.push_back({{"kurtosis", st.kurtosis}, {"max_ratio", st.max_ratio}, {"max_channel", st.max_channel}});
    fmt::print("{}\n", nlohmann::json{{"protocol", o.protocol}, {"rows", s->rows}, {"width", s->width},
                                      {"average", s->average}, {"skipped", s->skipped},
                                      {"max_ratio", s->max_ratio}, {"max_ratio_state", s->max_ratio_state},
                                      {"states", states}}.dump());
    return 0;
  }
  fmt::print("excess kurtosis ({} protocol, {} x {} tokens): {:.2f}\n", o.protocol, s->rows, s->width, s->average);
  fmt::print("  state  kurtosis  max|x|/rms  channel\n");
  for (size_t i = 0; i < s->states.size(); ++i)
    fmt::print("  {:>5}  {:>8.2f}  {:>10.2f}  {:>7}\n", i, s->states[i].kurtosis, s->states[i].max_ratio,
               s->states[i].max_channel);
  if (s->skipped > 0) fmt::print("  {} zero-variance vectors skipped (spec §1.4)\n", s->skipped);
  return 0;
}

void add_common(CLI::App* cmd, EvalOptions& o) {
  cmd->add_option("model", o.model, "Model file, GGUF, checkpoint, run or Hugging Face folder")->required();
  cmd->add_option("--data", o.data, "Prepared shards folder or a text file")->required();
  cmd->add_option("--split", o.split, "Split of a shards folder (default val)");
  cmd->add_option("--tokenizer", o.tokenizer, "tokenizer.json or GGUF to encode a text --data (default: the model's)");
  cmd->add_flag("--json", o.json, "Print JSON for machines");
}

void add_quant(CLI::App* cmd, EvalOptions& o, bool modes) {
  cmd->add_option("--w", o.w_bits, "Weight bits (16 = off)");
  cmd->add_option("--a", o.a_bits, "Activation bits (16 = off)");
  cmd->add_option("--kv", o.kv_bits, "K and V bits (16 = off)");
  if (modes) {
    cmd->add_option("--rotate", o.rotate, "none, ffn or full");
    cmd->add_option("--weights", o.weights, "rtn or gptq");
  }
  cmd->add_option("--calib", o.calib, "GPTQ calibration data (default: the train split of --data)");
  cmd->add_option("--calib-windows", o.calib_windows, "GPTQ calibration windows (default 128)");
  cmd->add_flag("--no-center-embed", o.no_center_embed, "Full rotation without mean-centring the embedding");
  cmd->add_option("--seed", o.seed, "Seed of rotation signs and calibration offsets (default 0)");
}

}  // namespace

void register_eval(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* ev = app.add_subcommand("eval", "Measure a model: perplexity, kurtosis, 4-bit quantization");
  ev->require_subcommand(1);
  CLI::App* ppl = ev->add_subcommand("ppl", "Perplexity on non-overlapping windows (measurement.md §2)");
  add_common(ppl, *o);
  ppl->add_option("--window", o->window, "Window length (default 2048, capped at the context)");
  ppl->add_option("--max-windows", o->max_windows, "Use only the first N windows (0 = all)");
  ppl->callback([o, &run] { run = [o] { return cmd_ppl(*o); }; });
  CLI::App* ku = ev->add_subcommand("kurtosis", "Excess kurtosis of the hidden states (measurement.md §1)");
  add_common(ku, *o);
  ku->add_option("--protocol", o->protocol, "token (the paper's) or sequence");
  ku->add_option("--rows", o->rows, "Rows R (default 128)");
  ku->add_option("--width", o->width, "Tokens per row W (default 2048, capped at the context)");
  ku->callback([o, &run] { run = [o] { return cmd_kurtosis(*o); }; });
  CLI::App* qu = ev->add_subcommand("quant", "Perplexity under W/A/KV fake quantization (measurement.md §3)");
  add_common(qu, *o);
  add_quant(qu, *o, true);
  qu->add_option("--window", o->window, "Window length (default 2048, capped at the context)");
  qu->add_option("--max-windows", o->max_windows, "Use only the first N windows (0 = all)");
  qu->callback([o, &run] { run = [o] { return cmd_quant(*o); }; });
  CLI::App* ta = ev->add_subcommand("table", "The paper's rows (FP, RTN, + FFN Had, + GPTQ, + QuaRot) and the W/A/KV split of RTN");
  add_common(ta, *o);
  add_quant(ta, *o, false);
  ta->add_option("--window", o->window, "Window length (default 2048, capped at the context)");
  ta->add_option("--max-windows", o->max_windows, "Use only the first N windows (0 = all)");
  ta->callback([o, &run] { run = [o] { return cmd_table(*o); }; });
  register_eval_logits(*ev, run);
  register_eval_outliers(*ev, run);
}

}  // namespace osp::cli
