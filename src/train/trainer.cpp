// The training loop.
#include "train/trainer.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "core/stop_flag.h"
#include "core/timer.h"
#include "eval/kurtosis.h"
#include "model/flops.h"
#include "model/init.h"
#include "model/llama.h"
#include "ops/cross_entropy.h"
#include "ops/gemm.h"
#include "ops/roofline.h"
#include "train/metrics_log.h"

namespace osp::train {

namespace fs = std::filesystem;

namespace {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int64_t t = int64_t(s);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t / 60) % 60);
  return fmt::format("{}m{:02d}s", t / 60, t % 60);
}

// Everything one run holds: the context, parameters, gradients, model activations, optimizer,
// data position. The context's generator is the run's (initialisation; saved with checkpoints).
struct Run {
  const RunConfig& cfg;
  ops::Context& ctx;
  model::ParamTable table;
  AlignedBuffer<float> params, grads;
  model::LlamaWeights<float> w, g;
  model::Llama<float> model;
  optim::Optimizer opt;
  data::WindowSampler sampler;
  int64_t windows_drawn = 0;             // the data position
  std::vector<int32_t> inputs, targets;  // (accum, batch, seq)
  std::vector<data::TokenId> window;     // (seq + 1)

  Run(const RunConfig& c, ops::Context& context, data::WindowSampler s)
      : cfg(c), ctx(context), table(c.model), params(table.total_elems()), grads(table.total_elems()),
        w(model::LlamaWeights<float>::bind(table, params.data())),
        g(model::LlamaWeights<float>::bind(table, grads.data())),
        model(context, c.model, c.train.batch, c.train.seq, model::ForwardMode::kTrain, c.train.precision),
        opt(context, table, c.optim), sampler(s), inputs(size_t(c.tokens_per_step())),
        targets(size_t(c.tokens_per_step())), window(size_t(c.train.seq + 1)) {}

  // Row r of inputs/targets from window k: inputs = window[0:T], targets = window[1:T+1].
  static void split_window(const std::vector<data::TokenId>& win, int64_t t, int32_t* in, int32_t* tg) {
    for (int64_t i = 0; i < t; ++i) in[i] = int32_t(win[size_t(i)]), tg[i] = int32_t(win[size_t(i + 1)]);
  }

  // One optimizer step; returns the mean loss and the gradient norm before clipping. A step of
  // many micro-batches reports its progress every 30 s (a 135M model's step can take an hour).
  std::pair<double, double> step(int64_t step_number) {
    const int64_t t = cfg.train.seq, bt = cfg.train.batch * t;
    for (int64_t r = 0; r < cfg.train.batch * cfg.train.accum; ++r) {
      sampler.window(uint64_t(windows_drawn++), window.data());
      split_window(window, t, inputs.data() + r * t, targets.data() + r * t);
    }
    int64_t count = 0;  // counted targets of the whole optimizer batch (spec §2.4)
    for (int32_t id : targets) count += id != ops::kIgnoreIndex;
    grads.zero();
    double nll = 0;
    Timer since_report, step_time;
    for (int64_t a = 0; a < cfg.train.accum; ++a) {
      const int32_t* in = inputs.data() + a * bt;
      const int32_t* tg = targets.data() + a * bt;
      model.forward(w, in, cfg.train.batch, cfg.train.seq);
      nll += model.loss(tg, cfg.train.batch, cfg.train.seq).nll_sum;
      model.backward(w, g, in, tg, cfg.train.batch, cfg.train.seq, 1.0 / double(count));
      if (since_report.seconds() >= 30 && a + 1 < cfg.train.accum) {
        const double per = step_time.seconds() / double(a + 1);
        fmt::print("  step {}: micro-batch {}/{} ({:.1f} s each, step ETA {})\n", step_number, a + 1, cfg.train.accum,
                   per, format_duration(per * double(cfg.train.accum - a - 1)));
        std::fflush(stdout);
        since_report.reset();
      }
    }
    const double norm = opt.clip_gradients(grads.data());
    opt.step(params.data(), grads.data(), cfg.optim.schedule.multiplier(opt.steps_taken() + 1));
    model.cast_weights(w);  // bf16: the GEMMs of the next step read the updated weights
    return {nll / double(count), norm};
  }

  // The outlier watch: kurtosis (token and sequence protocols) and max |act|/RMS on fixed tokens.
  nlohmann::json watch(const std::vector<int32_t>& tokens) {
    const int64_t rows = int64_t(tokens.size()) / cfg.train.seq;
    auto seq = eval::measure_activations(ctx, cfg.model, w, tokens, rows, cfg.train.seq, eval::Protocol::kSequence);
    auto tok = eval::measure_activations(ctx, cfg.model, w, tokens, rows, cfg.train.seq, eval::Protocol::kToken);
    if (!seq || !tok) return {};
    return {{"kurtosis", tok->average}, {"kurtosis_sequence", seq->average}, {"max_act_ratio", seq->max_ratio},
            {"max_act_state", seq->max_ratio_state}};
  }

  // Mean validation loss over eval.batches sequential micro-batches (the same windows every time).
  double validate(const data::TokenDataset& val) {
    const int64_t b = cfg.train.batch, t = cfg.train.seq;
    std::vector<int32_t> in(size_t(b * t)), tg(size_t(b * t));
    double nll = 0;
    int64_t count = 0;
    for (int64_t k = 0; k < cfg.eval.batches; ++k) {
      if (uint64_t((k + 1) * b * t + 1) > val.tokens()) break;  // window w: tokens [w·t, w·t + t]
      for (int64_t r = 0; r < b; ++r) {
        val.read(uint64_t((k * b + r) * t), uint64_t(t + 1), window.data());
        split_window(window, t, in.data() + r * t, tg.data() + r * t);
      }
      model.forward(w, in.data(), b, t);
      const auto l = model.loss(tg.data(), b, t);
      nll += l.nll_sum, count += l.count;
    }
    return count > 0 ? nll / double(count) : std::nan("");
  }
};

}  // namespace

Result<TrainResult> run_training(const RunConfig& cfg, const fs::path& run_dir,
                                 const data::TokenDataset& train_tokens, const data::TokenDataset* val_tokens,
                                 const std::optional<CheckpointInfo>& resume) {
  if (int64_t(train_tokens.manifest().vocab_size) > cfg.model.vocab)
    return make_error("the training data's vocabulary ({}) exceeds model.vocab ({})",
                      train_tokens.manifest().vocab_size, cfg.model.vocab);
  auto sampler = data::WindowSampler::create(train_tokens, uint64_t(cfg.train.seq + 1), uint64_t(cfg.train.seed));
  if (!sampler) return sampler.error();
  ops::Context ctx = ops::Context::cpu(int(cfg.train.threads), uint64_t(cfg.train.seed));
  if (cfg.train.precision == model::Precision::kBF16) {
    // Refused before anything is allocated: oneDNN would emulate bf16 here, several times slower.
    if (const std::string missing = ops::bf16_missing_cpu_feature(ctx); !missing.empty())
      return make_error("train.precision = \"bf16\" needs a CPU with {}; train with \"fp32\" here", missing);
  }
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) return make_error("{}: cannot create the run folder: {}", run_dir.string(), ec.message());

  Run run(cfg, ctx, *sampler);
  TrainState state;
  if (resume) {
    OSP_TRY(check_compatible(resume->config, cfg));
    OSP_TRY(load_checkpoint_tensors(resume->dir, run.table, run.params.data(), run.opt));
    state = resume->state;
    run.opt.set_steps_taken(state.step);
    ctx.rng().set_state(state.rng);
    if (!state.data.is_object() || !state.data.contains("windows") || !state.data["windows"].is_number_integer())
      return make_error("{}: state.json has no data position", resume->dir.string());
    run.windows_drawn = state.data["windows"].get<int64_t>();
    fmt::print("resuming from {} at step {}\n", resume->dir.string(), state.step);
  } else {
    model::init_parameters(run.params.data(), run.table, cfg.model, ctx.rng());
  }
  run.model.cast_weights(run.w);
  auto log = MetricsLog::open(run_dir / "metrics.jsonl", state.step);
  if (!log) return log.error();

  const double flops_per_token = model::training_flops_per_token(cfg.model, cfg.train.seq);
  const bool bf16 = cfg.train.precision == model::Precision::kBF16;
  // The roofline of the run's GEMM dtype (bf16 has its own peak), robust to busy cores (roofline.h).
  ops::Roofline roof = ops::gemm_roofline(ctx, bf16 ? DType::kBF16 : DType::kF32);
  fmt::print("model: {:.2f}M parameters; {} tokens per step ({} x {} x {} accum); {:.1f} MiB activations{}\n",
             run.table.num_parameters() / 1e6, cfg.tokens_per_step(), cfg.train.batch, cfg.train.seq,
             cfg.train.accum, run.model.activation_bytes() / 1048576.0,
             bf16 ? fmt::format(" + {:.1f} MiB bf16 weight copy", run.model.weight_copy_bytes() / 1048576.0) : "");
  fmt::print("precision: {}{}; {}\n", model::precision_name(cfg.train.precision),
             bf16 ? fmt::format(" (bf16 GEMM operands, fp32 accumulation, fp32 masters and optimizer state; NS5 {}; {})",
                                cfg.optim.muon.ns_precision == optim::NsPrecision::kBF16 ? "bf16" : "fp32",
                                ops::bf16_gemm_description(ctx))
                  : "",
             ctx.describe());
  fmt::print("{}", run.opt.describe());
  fmt::print("roofline for MFU: {}\n", roof.describe());

  // The watch reads the first watch_rows validation windows (the same tokens every time).
  std::vector<int32_t> watch_tokens;
  if (cfg.eval.watch_every > 0 && val_tokens != nullptr) {
    const uint64_t n = std::min<uint64_t>(val_tokens->tokens(), uint64_t(cfg.eval.watch_rows * cfg.train.seq));
    std::vector<data::TokenId> raw(n - n % uint64_t(cfg.train.seq));
    val_tokens->read(0, raw.size(), raw.data());
    watch_tokens.assign(raw.begin(), raw.end());
  }

  auto save = [&]() -> Status {
    state.data = {{"windows", run.windows_drawn}};
    state.rng = ctx.rng().state();
    return save_checkpoint(run_dir, cfg, run.table, run.params.data(), run.opt, state);
  };
  TrainResult result;
  Timer wall;
  const double elapsed_before = state.elapsed_s;
  const int64_t first = state.step;
  while (state.step < cfg.train.steps) {
    if (stop_requested()) {
      fmt::print("stop requested: saving a checkpoint at step {}\n", state.step);
      OSP_TRY(save());
      result.stopped_early = true;
      break;
    }
    Timer t;
    const auto [loss, norm] = run.step(state.step + 1);
    const double dt = t.seconds();
    ++state.step;
    state.tokens_seen += cfg.tokens_per_step();
    state.elapsed_s = elapsed_before + wall.seconds();
    const double mult = cfg.optim.schedule.multiplier(state.step);
    const double tps = double(cfg.tokens_per_step()) / dt;
    roof.raise(tps * flops_per_token / 1e9);  // an achieved rate bounds the peak from below
    const double peak = roof.gflops * 1e9;
    nlohmann::json rec = {{"step", state.step}, {"loss", loss}, {"lr", cfg.optim.adamw.lr * mult},
                          {"lr_muon", cfg.optim.muon.lr * mult}, {"grad_norm", norm}, {"tokens_per_s", tps},
                          {"mfu", tps * flops_per_token / peak}, {"tokens", state.tokens_seen},
                          {"elapsed_s", state.elapsed_s}};
    const bool last = state.step == cfg.train.steps;
    if (val_tokens != nullptr && ((cfg.eval.every > 0 && state.step % cfg.eval.every == 0) || last)) {
      rec["val_loss"] = run.validate(*val_tokens);
      result.final_val_loss = rec["val_loss"].get<double>();
    }
    if (!watch_tokens.empty() && (state.step % cfg.eval.watch_every == 0 || last)) {
      const nlohmann::json wr = run.watch(watch_tokens);
      rec.update(wr);
      if (wr.contains("kurtosis") && (wr["kurtosis"].get<double>() > cfg.eval.warn_kurtosis ||
                                      wr["max_act_ratio"].get<double>() > cfg.eval.warn_max_ratio))
        fmt::print("outlier watch: step {}: excess kurtosis {:.2f} (sequence {:.2f}), max |act|/RMS {:.1f} in "
                   "hidden state {}: activation outliers are forming\n",
                   state.step, wr["kurtosis"].get<double>(), wr["kurtosis_sequence"].get<double>(),
                   wr["max_act_ratio"].get<double>(), wr["max_act_state"].get<int64_t>());
    }
    log->write(rec);
    result.final_loss = loss;
    if (state.step % cfg.train.log_every == 0 || last || rec.contains("val_loss")) {
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
    if ((cfg.train.save_every > 0 && state.step % cfg.train.save_every == 0) || last) OSP_TRY(save());
  }
  result.steps_done = state.step;
  return result;
}

}  // namespace osp::train
