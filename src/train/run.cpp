// A run's step, validation, watch, save and load (see run.h).
#include "train/run.h"

#include <fmt/format.h>

#include <cmath>

#include "core/timer.h"
#include "eval/kurtosis.h"
#include "ops/cross_entropy.h"

namespace osp::train {
namespace fs = std::filesystem;

namespace {

// Row r of inputs/targets from a window: inputs = window[0:T], targets = window[1:T+1].
void split_window(const std::vector<data::TokenId>& win, int64_t t, int32_t* in, int32_t* tg) {
  for (int64_t i = 0; i < t; ++i) in[i] = int32_t(win[size_t(i)]), tg[i] = int32_t(win[size_t(i + 1)]);
}

}  // namespace

Run::Run(const RunConfig& c, ops::Context& context, dist::Comm& cm, data::WindowSampler s)
    : cfg(c), ctx(context), comm(cm), local_batch(c.train.batch / cm.size()), table(c.model),
      params(table.total_elems()), grads(table.total_elems()),
      w(model::LlamaWeights<float>::bind(table, params.data())),
      g(model::LlamaWeights<float>::bind(table, grads.data())),
      model(context, c.model, local_batch, c.train.seq, model::ForwardMode::kTrain, c.train.precision),
      opt(context, table, c.optim), sampler(s), inputs(size_t(local_batch * c.train.seq * c.train.accum)),
      targets(inputs.size()), window(size_t(c.train.seq + 1)) {}

std::pair<double, double> Run::step(int64_t step_number) {
  const int64_t t = cfg.train.seq, b = local_batch, global = cfg.train.batch, bt = b * t;
  // Micro-batch a holds global rows a·B .. a·B + B − 1; this rank takes its slice of each, so the
  // N ranks together see exactly the windows one process would.
  for (int64_t a = 0; a < cfg.train.accum; ++a)
    for (int64_t r = 0; r < b; ++r) {
      const int64_t k = windows_drawn + a * global + comm.rank() * b + r;
      sampler.window(uint64_t(k), window.data());
      split_window(window, t, inputs.data() + (a * b + r) * t, targets.data() + (a * b + r) * t);
    }
  windows_drawn += global * cfg.train.accum;
  // Counted targets of the whole optimizer batch, over every rank, before the 1/count scaling
  // (spec §2.4).
  double count = 0;
  for (int32_t id : targets) count += id != ops::kIgnoreIndex;
  comm.all_reduce_sum(TensorView::of(&count, {1}));
  grads.zero();
  double nll = 0;
  Timer since_report, step_time;
  for (int64_t a = 0; a < cfg.train.accum; ++a) {
    const int32_t* in = inputs.data() + a * bt;
    const int32_t* tg = targets.data() + a * bt;
    model.forward(w, in, b, t);
    nll += model.loss(tg, b, t).nll_sum;
    model.backward(w, g, in, tg, b, t, 1.0 / count);
    if (since_report.seconds() >= 30 && a + 1 < cfg.train.accum) {
      const double per = step_time.seconds() / double(a + 1);
      if (comm.rank() == 0)
        fmt::print("  step {}: micro-batch {}/{} ({:.1f} s each, step ETA {})\n", step_number, a + 1, cfg.train.accum,
                   per, format_duration(per * double(cfg.train.accum - a - 1)));
      std::fflush(stdout);
      since_report.reset();
    }
  }
  comm.all_reduce_sum(TensorView::of(&nll, {1}));
  float* shard = opt.reduce_gradients(grads.data());
  const double norm = opt.clip_gradients(shard);
  opt.step(params.data(), shard, cfg.optim.schedule.multiplier(opt.steps_taken() + 1));
  model.cast_weights(w);  // bf16: the GEMMs of the next step read the updated weights
  return {nll / count, norm};
}

double Run::validate(const data::TokenDataset& val) {
  const int64_t b = local_batch, t = cfg.train.seq, global = cfg.train.batch;
  std::vector<int32_t> in(size_t(b * t)), tg(size_t(b * t));
  double sums[2] = {0, 0};  // Σ NLL, counted targets
  for (int64_t k = 0; k < cfg.eval.batches; ++k) {
    if (uint64_t((k + 1) * global * t + 1) > val.tokens()) break;  // window w: tokens [w·t, w·t + t]
    for (int64_t r = 0; r < b; ++r) {
      val.read(uint64_t((k * global + comm.rank() * b + r) * t), uint64_t(t + 1), window.data());
      split_window(window, t, in.data() + r * t, tg.data() + r * t);
    }
    model.forward(w, in.data(), b, t);
    const auto l = model.loss(tg.data(), b, t);
    sums[0] += l.nll_sum, sums[1] += double(l.count);
  }
  comm.all_reduce_sum(TensorView::of(sums, {2}));
  return sums[1] > 0 ? sums[0] / sums[1] : std::nan("");
}

nlohmann::json Run::watch(const std::vector<int32_t>& tokens) {
  if (comm.rank() != 0) return {};
  const int64_t rows = int64_t(tokens.size()) / cfg.train.seq;
  auto seq = eval::measure_activations(ctx, cfg.model, w, tokens, rows, cfg.train.seq, eval::Protocol::kSequence);
  auto tok = eval::measure_activations(ctx, cfg.model, w, tokens, rows, cfg.train.seq, eval::Protocol::kToken);
  if (!seq || !tok) return {};
  return {{"kurtosis", tok->average}, {"kurtosis_sequence", seq->average}, {"max_act_ratio", seq->max_ratio},
          {"max_act_state", seq->max_ratio_state}};
}

Status Run::save(const fs::path& run_dir, TrainState& state) {
  state.data = {{"windows", windows_drawn}};
  state.rng = ctx.rng().state();
  optim::StateImage image;
  const auto tensors = opt.gather_state(image);  // a collective: every rank
  int failed = 0;
  std::string message;
  if (comm.rank() == 0) {
    if (auto st = save_checkpoint(run_dir, cfg, table, params.data(), tensors, state); !st)
      failed = 1, message = st.error().message;
  }
  if (comm.size() > 1) comm.broadcast(TensorView::of(&failed, {1}), 0);  // every rank learns the outcome
  if (failed) return make_error("{}", comm.rank() == 0 ? message : "rank 0 could not write the checkpoint");
  return {};
}

Status Run::load(const fs::path& dir) {
  optim::StateImage image;
  int failed = 0;
  std::string message;
  if (comm.rank() == 0) {
    if (comm.size() > 1) image = opt.make_image();
    // One rank: straight into the optimizer's own state; several: into the image, then scattered.
    const auto tensors = comm.size() > 1 ? opt.image_tensors(image) : opt.gather_state(image);
    if (auto st = load_checkpoint_tensors(dir, table, params.data(), tensors); !st)
      failed = 1, message = st.error().message;
  }
  if (comm.size() == 1) return failed ? Status(make_error("{}", message)) : Status{};
  comm.broadcast(TensorView::of(&failed, {1}), 0);
  if (failed) return make_error("{}", comm.rank() == 0 ? message : "rank 0 could not read the checkpoint");
  comm.broadcast(TensorView::of(params.data(), {table.total_elems()}), 0);
  opt.scatter_state(image);
  return {};
}

}  // namespace osp::train
