// The training loop: start-up (world, precision, roofline, resume), the steps with their metrics,
// validation, outlier watch, progress lines and checkpoints. One process or N data-parallel ranks
// (rank 0 prints and writes; every rank runs the same collectives in the same order).
#include "train/trainer.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "core/stop_flag.h"
#include "core/timer.h"
#include "model/flops.h"
#include "model/init.h"
#include "ops/gemm.h"
#include "ops/roofline.h"
#include "train/metrics_log.h"
#include "train/run.h"
#include "train/world.h"

namespace osp::train {

namespace fs = std::filesystem;

namespace {

// Checks made before anything is allocated.
Status check_run(const RunConfig& cfg, const data::TokenDataset& train_tokens, const dist::Comm& comm,
                 ops::Context& ctx) {
  if (int64_t(train_tokens.manifest().vocab_size) > cfg.model.vocab)
    return make_error("the training data's vocabulary ({}) exceeds model.vocab ({})",
                      train_tokens.manifest().vocab_size, cfg.model.vocab);
  if (cfg.train.batch % comm.size() != 0)
    return make_error("train.batch = {} sequences do not divide among {} ranks (train.batch is the global batch)",
                      cfg.train.batch, comm.size());
  if (cfg.train.precision == model::Precision::kBF16) {
    // Refused before training: oneDNN would emulate bf16 here, several times slower.
    if (const std::string missing = ops::bf16_missing_cpu_feature(ctx); !missing.empty())
      return make_error("train.precision = \"bf16\" needs a CPU with {}; train with \"fp32\" here", missing);
  }
  return {};
}

// The start-up lines after the config: world, model, precision, optimizer table, roofline.
void print_start(const RunConfig& cfg, Run& run, dist::Comm& comm, int threads, const ops::Roofline& roof) {
  const std::string world = describe_world(comm, threads);  // a collective
  if (comm.rank() != 0) return;
  const bool bf16 = cfg.train.precision == model::Precision::kBF16;
  fmt::print("{}\n", world);
  fmt::print("model: {:.2f}M parameters; {} tokens per step ({} x {} x {} accum{}); {:.1f} MiB activations{}\n",
             run.table.num_parameters() / 1e6, cfg.tokens_per_step(), cfg.train.batch, cfg.train.seq, cfg.train.accum,
             comm.size() > 1 ? fmt::format(", {} sequences per rank", run.local_batch) : "",
             run.model.activation_bytes() / 1048576.0,
             bf16 ? fmt::format(" + {:.1f} MiB bf16 weight copy", run.model.weight_copy_bytes() / 1048576.0) : "");
  fmt::print("precision: {}{}; {}\n", model::precision_name(cfg.train.precision),
             bf16 ? fmt::format(" (bf16 GEMM operands, fp32 accumulation, fp32 masters and optimizer state; NS5 {}; {})",
                                cfg.optim.muon.ns_precision == optim::NsPrecision::kBF16 ? "bf16" : "fp32",
                                ops::bf16_gemm_description(run.ctx))
                  : "",
             run.ctx.describe());
  fmt::print("{}", run.opt.describe());
  fmt::print("roofline for MFU: {}\n", roof.describe());
  std::fflush(stdout);
}

// The watch reads the first watch_rows validation windows (the same tokens every time).
std::vector<int32_t> watch_tokens(const RunConfig& cfg, const data::TokenDataset* val) {
  if (cfg.eval.watch_every <= 0 || val == nullptr) return {};
  const uint64_t n = std::min<uint64_t>(val->tokens(), uint64_t(cfg.eval.watch_rows * cfg.train.seq));
  std::vector<data::TokenId> raw(n - n % uint64_t(cfg.train.seq));
  val->read(0, raw.size(), raw.data());
  return {raw.begin(), raw.end()};
}

bool all_agree_to_stop(dist::Comm& comm) {
  double stop = stop_requested() ? 1 : 0;  // a signal may reach the ranks at different steps
  comm.all_reduce_sum(TensorView::of(&stop, {1}));
  return stop > 0;
}

}  // namespace

Result<TrainResult> run_training(const RunConfig& cfg, const fs::path& run_dir, const data::TokenDataset& train_tokens,
                                 const data::TokenDataset* val_tokens, const std::optional<CheckpointInfo>& resume,
                                 dist::Comm* comm_or_null) {
  const auto single = comm_or_null == nullptr ? dist::make_single_comm() : nullptr;
  dist::Comm& comm = comm_or_null != nullptr ? *comm_or_null : *single;
  const bool root = comm.rank() == 0;
  const int threads = threads_per_rank(cfg, comm);
  ops::Context ctx = ops::Context::cpu(threads, uint64_t(cfg.train.seed));
  ctx.set_comm(&comm);
  OSP_TRY(check_same_run(comm, cfg));
  OSP_TRY(check_run(cfg, train_tokens, comm, ctx));
  auto sampler = data::WindowSampler::create(train_tokens, uint64_t(cfg.train.seq + 1), uint64_t(cfg.train.seed));
  if (!sampler) return sampler.error();
  std::error_code ec;
  if (root) fs::create_directories(run_dir, ec);
  if (ec) return make_error("{}: cannot create the run folder: {}", run_dir.string(), ec.message());

  Run run(cfg, ctx, comm, *sampler);
  TrainState state;
  if (resume) {
    OSP_TRY(check_compatible(resume->config, cfg));
    OSP_TRY(run.load(resume->dir));
    state = resume->state;
    run.opt.set_steps_taken(state.step);
    ctx.rng().set_state(state.rng);
    if (!state.data.is_object() || !state.data.contains("windows") || !state.data["windows"].is_number_integer())
      return make_error("{}: state.json has no data position", resume->dir.string());
    run.windows_drawn = state.data["windows"].get<int64_t>();
    if (root) fmt::print("resuming from {} at step {}\n", resume->dir.string(), state.step);
  } else {
    model::init_parameters(run.params.data(), run.table, cfg.model, ctx.rng());  // the same on every rank
  }
  run.model.cast_weights(run.w);
  std::optional<MetricsLog> log;
  if (root) {
    auto l = MetricsLog::open(run_dir / "metrics.jsonl", state.step);
    if (!l) return l.error();
    log.emplace(std::move(*l));
  }

  const double flops_per_token = model::training_flops_per_token(cfg.model, cfg.train.seq);
  // The roofline of the run's GEMM dtype (bf16 has its own peak), robust to busy cores (roofline.h).
  ops::Roofline roof =
      ops::gemm_roofline(ctx, cfg.train.precision == model::Precision::kBF16 ? DType::kBF16 : DType::kF32);
  print_start(cfg, run, comm, threads, roof);
  const std::vector<int32_t> watch = watch_tokens(cfg, val_tokens);

  TrainResult result;
  Timer wall;
  const double elapsed_before = state.elapsed_s;
  const int64_t first = state.step;
  while (state.step < cfg.train.steps) {
    if (all_agree_to_stop(comm)) {
      if (root) fmt::print("stop requested: saving a checkpoint at step {}\n", state.step);
      OSP_TRY(run.save(run_dir, state));
      result.stopped_early = true;
      break;
    }
    comm.reset_counters();
    Timer t;
    const auto [loss, norm] = run.step(state.step + 1);
    const double dt = t.seconds();
    ++state.step;
    state.tokens_seen += cfg.tokens_per_step();
    state.elapsed_s = elapsed_before + wall.seconds();
    const double mult = cfg.optim.schedule.multiplier(state.step);
    // Throughput and MFU of the whole job: every rank's tokens over the step's time, against the
    // peak of all ranks (each rank's roofline was measured with its own threads).
    const double tps = double(cfg.tokens_per_step()) / dt;
    roof.raise(tps * flops_per_token / 1e9 / comm.size());  // an achieved rate bounds the peak from below
    const double peak = roof.gflops * 1e9 * comm.size();
    nlohmann::json rec = {{"step", state.step}, {"loss", loss}, {"lr", cfg.optim.adamw.lr * mult},
                          {"lr_muon", cfg.optim.muon.lr * mult}, {"grad_norm", norm}, {"tokens_per_s", tps},
                          {"mfu", tps * flops_per_token / peak}, {"tokens", state.tokens_seen},
                          {"elapsed_s", state.elapsed_s}};
    if (comm.size() > 1) rec["comm_bytes"] = comm.bytes(), rec["comm_s"] = comm.seconds();
    const bool last = state.step == cfg.train.steps;
    if (val_tokens != nullptr && ((cfg.eval.every > 0 && state.step % cfg.eval.every == 0) || last)) {
      rec["val_loss"] = run.validate(*val_tokens);
      result.final_val_loss = rec["val_loss"].get<double>();
    }
    if (!watch.empty() && (state.step % cfg.eval.watch_every == 0 || last)) {
      const nlohmann::json wr = run.watch(watch);
      rec.update(wr);
      if (wr.contains("kurtosis") && (wr["kurtosis"].get<double>() > cfg.eval.warn_kurtosis ||
                                      wr["max_act_ratio"].get<double>() > cfg.eval.warn_max_ratio))
        fmt::print("outlier watch: step {}: excess kurtosis {:.2f} (sequence {:.2f}), max |act|/RMS {:.1f} in "
                   "hidden state {}: activation outliers are forming\n",
                   state.step, wr["kurtosis"].get<double>(), wr["kurtosis_sequence"].get<double>(),
                   wr["max_act_ratio"].get<double>(), wr["max_act_state"].get<int64_t>());
    }
    if (log) log->write(rec);
    result.final_loss = loss;
    if (root && (state.step % cfg.train.log_every == 0 || last || rec.contains("val_loss"))) {
      const double per_step = wall.seconds() / double(state.step - first);
      fmt::print("step {:>6}/{}  loss {:.4f}{}{}  lr {:.2e}  grad {:.3f}  {:.0f} tok/s  MFU {:.1f}%  ETA {}\n",
                 state.step, cfg.train.steps, loss,
                 rec.contains("val_loss") ? fmt::format("  val {:.4f}", rec["val_loss"].get<double>()) : "",
                 rec.contains("kurtosis") ? fmt::format("  kurt {:.2f}  max/rms {:.1f}", rec["kurtosis"].get<double>(),
                                                        rec["max_act_ratio"].get<double>())
                                          : "",
                 cfg.optim.adamw.lr * mult, norm, tps, 100 * tps * flops_per_token / peak,
                 format_duration(per_step * double(cfg.train.steps - state.step)));
      std::fflush(stdout);
    }
    if (!std::isfinite(loss)) return make_error("the loss is {} at step {}; stopping", loss, state.step);
    if ((cfg.train.save_every > 0 && state.step % cfg.train.save_every == 0) || last)
      OSP_TRY(run.save(run_dir, state));
  }
  result.steps_done = state.step;
  return result;
}

}  // namespace osp::train
