// osp train: train a model from a TOML config, or resume a run; data-parallel under an MPI
// launcher (docs/distributed.md).
//   osp train configs/tiny.toml [--run-dir runs/tiny] [--set optim.groups=muon ...]
//   osp train --resume runs/tiny [--set train.steps=2000]
//   mpirun -np 2 osp train configs/tiny-osp.toml
#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <cstdio>

#include "cli/commands.h"
#include "core/stop_flag.h"
#include "dist/comm.h"
#include "data/token_loader.h"
#include "core/atomic_file.h"
#include "io/model_file.h"
#include "train/trainer.h"

namespace osp::cli {
namespace {

namespace fs = std::filesystem;

struct TrainOptions {
  std::string config;
  std::string run_dir;
  std::string resume;
  std::vector<std::string> set;
};

int fail(const std::string& message) {
  fmt::print(stderr, "osp train: {}\n", message);
  return 1;
}

// One rank of several failing ends the whole job at once, naming the rank; the others would
// otherwise wait for it in their next collective.
int fail_rank(dist::Comm& comm, const std::string& message) {
  if (comm.size() == 1) return fail(message);
  fmt::print(stderr, "osp train: rank {} of {}: {}\n", comm.rank(), comm.size(), message);
  comm.abort(1);
  return 1;  // not reached: abort ends the job
}

int train_with(const TrainOptions& o, dist::Comm& comm);

int run_train(const TrainOptions& o) {
  auto comm = dist::make_comm(nullptr, nullptr);
  // Rank 0 prints and writes; the other ranks print errors only (stderr).
  if (comm->rank() != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) return fail_rank(*comm, "cannot silence stdout");
  const int code = train_with(o, *comm);
  // train_with has printed the reason; with several ranks the whole job must end now.
  if (code != 0 && comm->size() > 1) fail_rank(*comm, "training failed; ending the job");
  return code;
}

int train_with(const TrainOptions& o, dist::Comm& comm) {
  std::optional<train::CheckpointInfo> resume;
  train::RunConfig cfg;
  fs::path run_dir;
  if (!o.resume.empty()) {
    run_dir = o.resume;
    auto dir = io::latest_checkpoint(run_dir);
    if (!dir) return fail(dir.error().message);
    auto info = train::read_checkpoint_info(*dir);
    if (!info) return fail(info.error().message);
    nlohmann::json j = train::run_config_to_json(info->config);
    for (const auto& s : o.set)
      if (auto st = train::apply_override(j, s); !st) return fail(st.error().message);
    auto c = train::run_config_from_json(j);
    if (!c) return fail(c.error().message);
    cfg = *c;
    resume = *info;
  } else {
    if (o.config.empty()) return fail("give a config file, or --resume RUN_DIR");
    auto c = train::load_run_config(o.config, o.set);
    if (!c) return fail(c.error().message);
    cfg = *c;
    run_dir = o.run_dir.empty() ? fs::path("runs") / fs::path(o.config).stem() : fs::path(o.run_dir);
    if (io::latest_checkpoint(run_dir).ok())
      return fail(fmt::format("{} already holds a run; continue it with --resume {} or choose another --run-dir",
                              run_dir.string(), run_dir.string()));
  }
  if (cfg.data.train.empty()) return fail("data.train is not set (a folder made by `osp data prepare`)");
  auto train_data = data::TokenDataset::open(cfg.data.train, "train");
  if (!train_data) return fail(train_data.error().message);
  auto val_data = data::TokenDataset::open(cfg.data.val.empty() ? cfg.data.train : cfg.data.val, "val");
  if (!val_data) return fail(val_data.error().message);

  const std::string config_text = train::run_config_to_json(cfg).dump(2);
  fmt::print("run folder: {}\nconfig:\n{}\n", run_dir.string(), config_text);
  if (comm.rank() == 0) {
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    const std::string saved = config_text + "\n";
    if (auto st = write_file_atomically(run_dir / "config.json", std::as_bytes(std::span(saved))); !st)
      return fail(st.error().message);
  }

  install_stop_handler();
  auto r = train::run_training(cfg, run_dir, *train_data, &*val_data, resume, &comm);
  if (!r) return fail(r.error().message);
  fmt::print("{} at step {}: loss {:.4f}{}; checkpoint in {}\n", r->stopped_early ? "stopped" : "done",
             r->steps_done, r->final_loss,
             r->final_val_loss >= 0 ? fmt::format(", validation loss {:.4f}", r->final_val_loss) : "",
             (run_dir / "checkpoints").string());
  return 0;
}

}  // namespace

void register_train(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model from a TOML config (or resume a run)");
  cmd->add_option("config", o->config, "TOML config (see configs/)");
  cmd->add_option("--run-dir", o->run_dir, "Run folder (default: runs/<config name>)");
  cmd->add_option("--resume", o->resume, "Continue the run in this folder with its stored config");
  cmd->add_option("--set", o->set, "Override a setting: section.key=value (repeatable)");
  cmd->callback([o, &run] { run = [o] { return run_train(*o); }; });
}

}  // namespace osp::cli
