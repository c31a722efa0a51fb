// osp demo: the paper's story at demo scale, in one command. Prepares the demo corpus and
// tokenizer if absent, trains the ablation rows (default: adam and osp; --all: all six) with the
// same data, seed, token budget and schedule, evaluates each (perplexity at 16-16-16 and
// W4A4KV4 with RTN and with the FFN Hadamard, excess kurtosis in both protocols, max |act|/RMS),
// prints the paper-style table and writes OUT/results.json and OUT/report.html.
// Re-running continues where it stopped: finished runs are reused, interrupted ones resumed.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/demo_eval.h"
#include "cli/demo_variants.h"
#include "core/stop_flag.h"
#include "core/timer.h"
#include "core/version.h"
#include "data/prepare.h"
#include "data/token_loader.h"
#include "core/atomic_file.h"
#include "io/model_file.h"
#include "ops/gemm.h"
#include "ops/roofline.h"
#include "train/trainer.h"

namespace osp::cli {
namespace {

namespace fs = std::filesystem;

struct DemoOptions {
  double minutes = 10;
  std::string out = "runs/demo";
  std::string data = "data/demo";
  bool all = false;
  std::string variants;
  int64_t seed = 0;
  int64_t steps = 0;  // 0: from --minutes
  std::vector<std::string> set;  // run-config overrides for every variant
};

Status write_json(const fs::path& file, const nlohmann::json& j) {
  const std::string s = j.dump(2) + "\n";
  return write_file_atomically(file, std::as_bytes(std::span(s)));
}

Result<std::vector<DemoVariant>> chosen_variants(const DemoOptions& o) {
  std::vector<std::string> names;
  if (o.all) {
    for (const auto& v : demo_variants()) names.push_back(v.name);
  } else if (!o.variants.empty()) {
    std::stringstream ss(o.variants);
    for (std::string n; std::getline(ss, n, ',');) names.push_back(n);
  } else {
    names = {"adam", "osp"};
  }
  std::vector<DemoVariant> out;
  for (const auto& n : names) {
    auto it = std::find_if(demo_variants().begin(), demo_variants().end(), [&](const auto& v) { return v.name == n; });
    if (it == demo_variants().end())
      return make_error("unknown variant \"{}\" (adam, muon-only, muon, muon+ssnorm, muon+embproj, osp)", n);
    out.push_back(*it);
  }
  return out;
}

// Trains one variant to `steps`, resuming or reusing what the run folder already holds.
Status train_variant(const train::RunConfig& cfg, const fs::path& run_dir, const data::TokenDataset& train_data,
                     const data::TokenDataset& val_data) {
  std::optional<train::CheckpointInfo> resume;
  if (auto latest = io::latest_checkpoint(run_dir)) {
    auto info = train::read_checkpoint_info(*latest);
    if (!info) return info.error();
    if (train::check_compatible(info->config, cfg).ok() && info->state.step <= cfg.train.steps) {
      if (info->state.step == cfg.train.steps) return {};  // finished earlier
      resume = *info;
    } else {
      std::error_code ec;
      fs::remove_all(run_dir, ec);  // a different demo setting: start this variant afresh
    }
  }
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  OSP_TRY(write_json(run_dir / "config.json", train::run_config_to_json(cfg)));
  auto r = train::run_training(cfg, run_dir, train_data, &val_data, resume);
  if (!r) return r.error();
  if (r->stopped_early) return make_error("stopped at step {}; run `osp demo` again to continue", r->steps_done);
  return {};
}

// The demo trains in bf16 where this CPU multiplies bf16 clearly faster than fp32 (the measured
// GEMM rooflines; AMD Zen 4 does, Intel Xeons without AMX do not) and in fp32 elsewhere: the bf16
// demo keeps the fp32 demo's conclusions (docs/results.md). A --set train.precision=... wins.
// Appends the choice to overrides and returns it.
std::string demo_precision(std::vector<std::string>& overrides) {
  for (const auto& s : overrides)
    if (s.rfind("train.precision=", 0) == 0) return s.substr(16);
  ops::Context ctx = ops::Context::cpu();
  const std::string missing = ops::bf16_missing_cpu_feature(ctx);
  const double f32 = ops::gemm_roofline(ctx, DType::kF32).gflops;
  const double bf16 = missing.empty() ? ops::gemm_roofline(ctx, DType::kBF16).gflops : 0;
  const bool use_bf16 = missing.empty() && bf16 > 1.2 * f32;
  if (use_bf16)
    fmt::print("precision: bf16 (bf16 GEMMs at {:.0f} GFLOP/s here, fp32 at {:.0f})\n", bf16, f32);
  else if (missing.empty())
    fmt::print("precision: fp32 (bf16 GEMMs run at {:.0f} GFLOP/s here, fp32 at {:.0f}; --set train.precision=bf16 "
               "uses bf16 anyway)\n", bf16, f32);
  else
    fmt::print("precision: fp32 (no native bf16 on this CPU: {})\n", missing);
  overrides.push_back(use_bf16 ? "train.precision=bf16" : "train.precision=fp32");
  return use_bf16 ? "bf16" : "fp32";
}

int run_demo(const DemoOptions& o, const std::string& command) {
  Timer total;
  auto variants = chosen_variants(o);
  if (!variants) return fmt::print(stderr, "osp demo: {}\n", variants.error().message), 1;
  if (!fs::exists(fs::path(o.data) / "manifest.json")) {
    fmt::print("osp demo: preparing the demo corpus and tokenizer in {}\n", o.data);
    data::PrepareOptions p;
    p.out_dir = o.data;
    auto r = data::prepare_dataset(p, [](const std::string& line) { fmt::print("{}\n", line); });
    if (!r) return fmt::print(stderr, "osp demo: {}\n", r.error().message), 1;
  }
  auto train_data = data::TokenDataset::open(o.data, "train");
  auto val_data = data::TokenDataset::open(o.data, "val");
  if (!train_data || !val_data)
    return fmt::print(stderr, "osp demo: {}\n", (!train_data ? train_data.error() : val_data.error()).message), 1;
  const int64_t vocab = train_data->manifest().vocab_size;
  // Two variants of 720 steps x 2,048 tokens took 2.8 minutes on 2 quiet cores (training and
  // evaluation), so 10 minutes buy about 2,160 steps each; the steps scale with the budget and
  // inversely with the number of variants.
  const int64_t steps = o.steps > 0 ? o.steps
                                    : std::max<int64_t>(50, int64_t(std::lround(2160.0 * (o.minutes / 10.0) *
                                                                                2.0 / double(variants->size()))));
  fmt::print("osp demo: {} variants x {} steps x 2048 tokens, seed {}, data {} (vocab {})\n", variants->size(),
             steps, o.seed, o.data, vocab);
  std::vector<std::string> overrides = o.set;
  const std::string precision = demo_precision(overrides);
  install_stop_handler();
  std::vector<DemoResult> results;
  for (const auto& v : *variants) {
    auto cfg = demo_run_config(v, o.data, vocab, steps, o.seed, overrides);
    if (!cfg) return fmt::print(stderr, "osp demo: {}\n", cfg.error().message), 1;
    const fs::path run_dir = fs::path(o.out) / "runs" / v.name;
    fmt::print("\n== {} ({}; groups {}, norm {}, emb_proj {}) ==\n", v.name, v.paper_row, v.groups, v.norm,
               v.emb_proj ? "on" : "off");
    if (auto st = train_variant(*cfg, run_dir, *train_data, *val_data); !st)
      return fmt::print(stderr, "osp demo: {}: {}\n", v.name, st.error().message), 1;
    auto r = evaluate_demo_run(v, run_dir, *val_data, command);
    if (!r) return fmt::print(stderr, "osp demo: {}: {}\n", v.name, r.error().message), 1;
    results.push_back(*r);
  }
  fmt::print("\n{}", format_demo_table(results));
  nlohmann::json all = {{"osp_version", OSP_VERSION}, {"command", command}, {"steps", steps},
                        {"tokens_per_step", 2048}, {"seed", o.seed}, {"data", o.data}, {"overrides", o.set},
                        {"precision", precision},
                        {"minutes", total.seconds() / 60.0}, {"runs", nlohmann::json::array()}};
  for (const auto& r : results) all["runs"].push_back(r.json);
  if (auto st = write_json(fs::path(o.out) / "results.json", all); !st)
    return fmt::print(stderr, "osp demo: {}\n", st.error().message), 1;
  if (auto st = write_demo_report(o.out, results); !st)
    return fmt::print(stderr, "osp demo: {}\n", st.error().message), 1;
  fmt::print("results: {}/results.json, report: {}/report.html ({:.1f} minutes)\n", o.out, o.out,
             total.seconds() / 60.0);
  return 0;
}

}  // namespace

void register_demo(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Train Adam and OSP models on the demo corpus and compare outliers and 4-bit quality");
  cmd->add_option("--minutes", o->minutes, "Time budget on 2 cores (scales the steps)")->capture_default_str();
  cmd->add_option("--out", o->out, "Output folder (runs, results.json, report.html)")->capture_default_str();
  cmd->add_option("--data", o->data, "Prepared data folder (built from the demo corpus if absent)")->capture_default_str();
  cmd->add_flag("--all", o->all, "All six ablation rows (give --minutes 30 or so)");
  cmd->add_option("--variants", o->variants, "Comma-separated variants: adam, muon-only, muon, muon+ssnorm, muon+embproj, osp");
  cmd->add_option("--seed", o->seed, "Seed of initialisation and data order")->capture_default_str();
  cmd->add_option("--steps", o->steps, "Steps per variant (overrides --minutes)");
  cmd->add_option("--set", o->set, "Override a run setting of every variant: section.key=value (repeatable), "
                  "e.g. optim.adamw.lr=3e-3");
  cmd->callback([o, &run] {
    // The command that reproduces this demo, with every setting spelled out.
    std::string command = fmt::format("osp demo --out {} --data {} --seed {}", o->out, o->data, o->seed);
    command += o->steps > 0 ? fmt::format(" --steps {}", o->steps) : fmt::format(" --minutes {}", o->minutes);
    for (const auto& s : o->set) command += " --set " + s;
    if (o->all) command += " --all";
    else if (!o->variants.empty()) command += " --variants " + o->variants;
    run = [o, command] { return run_demo(*o, command); };
  });
}

}  // namespace osp::cli
