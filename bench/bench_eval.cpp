// Benchmark of evaluation (measurement.md §2–3) on the reference ~10M-parameter config: perplexity
// throughput unquantized and under W4A4KV4 fake quantization (RTN, + FFN Hadamard, GPTQ, QuaRot),
// the time each quantization takes to prepare (GPTQ: calibration), and PyTorch's unquantized
// forward on the same model, BLAS kernel and thread count for reference.
//   build/bench/bench_eval [--windows N] [--seq T] [--calib N] [--ffn F] [--no-torch]
// --ffn 5504 gives the FFN the 1.4B preset's width (Hadamard base K = 172).
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_setup.h"
#include "core/rng.h"
#include "core/timer.h"
#include "eval/perplexity.h"
#include "model/flops.h"
#include "model/init.h"
#include "ops/roofline.h"
#include "quant/ptq.h"
#include "reference_run.h"

namespace {

using namespace osp;
using namespace osp::model;

struct Row {
  std::string name;
  double prepare_s = 0, eval_s = 0, ppl = 0;
};

}  // namespace

int main(int argc, char** argv) {
  select_blas_kernel(argv);
  verify_blas(argv);
  enable_flush_to_zero();
  int64_t windows = 64, seq = 256, calib = 64, ffn = 1024;
  bool torch = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--windows") && i + 1 < argc) windows = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--seq") && i + 1 < argc) seq = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--calib") && i + 1 < argc) calib = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--ffn") && i + 1 < argc) ffn = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-torch")) torch = false;
  }
  ModelConfig cfg;  // the reference config of bench_train_step: ~10.2M parameters
  cfg.layers = 4, cfg.hidden = 384, cfg.heads = 6, cfg.vocab = 4096, cfg.ffn = ffn, cfg.context = seq;
  cfg = resolve(cfg).value();
  const ParamTable table(cfg);
  AlignedBuffer<float> params(table.total_elems());
  Rng rng(0);
  init_parameters(params.data(), table, cfg, rng);
  const auto w = LlamaWeights<float>::bind(table, params.data());
  // Random tokens: throughput does not depend on them, and the quantized perplexities are
  // printed only to show every mode ran (a random model's perplexity is ~vocab).
  std::vector<int32_t> tokens(size_t(windows * seq)), calib_tokens(size_t((calib + 1) * seq));
  for (auto& x : tokens) x = int32_t(rng.below(uint64_t(cfg.vocab)));
  for (auto& x : calib_tokens) x = int32_t(rng.below(uint64_t(cfg.vocab)));

  std::vector<Row> rows;
  // Each evaluation runs twice and the faster run counts (the first one also pays for first
  // touches of the activation buffers and the thread pool's start).
  ops::Context ctx = ops::Context::cpu();
  auto timed_ppl = [&](const ModelConfig& c, const LlamaWeights<float>& wt, ForwardTap* tap,
                       double& best_s) -> Result<eval::PerplexityResult> {
    Result<eval::PerplexityResult> r = make_error("not run");
    best_s = INFINITY;
    for (int rep = 0; rep < 2; ++rep) {
      Timer t;
      r = eval::perplexity<float>(ctx, c, wt, tokens, seq, tap);
      if (!r) return r;
      best_s = std::min(best_s, t.seconds());
    }
    return r;
  };
  {
    double s = 0;
    auto r = timed_ppl(cfg, w, nullptr, s);
    if (!r) return fmt::print(stderr, "bench_eval: {}\n", r.error().message), 1;
    rows.push_back({"FP (16-16-16)", 0, s, r->ppl});
  }
  struct Mode {
    const char* name;
    quant::Rotate rotate;
    quant::WeightMethod weights;
  };
  for (const Mode& m : {Mode{"W4A4KV4 RTN", quant::Rotate::kNone, quant::WeightMethod::kRtn},
                        Mode{"+ FFN Had", quant::Rotate::kFfn, quant::WeightMethod::kRtn},
                        Mode{"+ GPTQ", quant::Rotate::kFfn, quant::WeightMethod::kGptq},
                        Mode{"+ QuaRot", quant::Rotate::kFull, quant::WeightMethod::kGptq}}) {
    quant::PtqSettings s;
    s.rotate = m.rotate, s.weights = m.weights, s.calib_windows = calib, s.calib_len = seq;
    Timer tp;
    auto q = quant::prepare_ptq(ctx, cfg, table, params.data(), s, calib_tokens);
    if (!q) return fmt::print(stderr, "bench_eval: {}: {}\n", m.name, q.error().message), 1;
    const double prep = tp.seconds();
    double eval_s = 0;
    auto r = timed_ppl(q->model.config, q->model.weights(), q->tap.get(), eval_s);
    if (!r) return fmt::print(stderr, "bench_eval: {}: {}\n", m.name, r.error().message), 1;
    rows.push_back({m.name, prep, eval_s, r->ppl});
  }

  const double n_tokens = double(windows * seq);
  const double flops = forward_flops_per_token(cfg, seq);
  const double roof = ops::gemm_roofline(ctx, DType::kF32).gflops;
  fmt::print("osp bench_eval: perplexity throughput, unquantized and W4A4KV4 fake quantization\n");
  fmt::print("BLAS: {}\n", blas_description());
  fmt::print("model: {} layers, hidden {}, heads {}, ffn {}, vocab {} ({:.2f}M parameters); {} windows x {} tokens; "
             "GPTQ calibration {} windows x {}\n",
             cfg.layers, cfg.hidden, cfg.heads, cfg.ffn, cfg.vocab, table.num_parameters() / 1e6, windows, seq,
             calib, seq);
  fmt::print("roofline: SGEMM 2048^3 = {:.1f} GFLOP/s\n", roof);
  fmt::print("{:<16} {:>10} {:>10} {:>12} {:>8} {:>12}\n", "mode", "prepare s", "eval s", "tokens/s", "MFU",
             "PPL");
  for (const Row& r : rows) {
    const double tps = n_tokens / r.eval_s;
    fmt::print("{:<16} {:>10.2f} {:>10.2f} {:>12.0f} {:>7.1f}% {:>12.1f}\n", r.name, r.prepare_s, r.eval_s, tps,
               100 * tps * flops / 1e9 / roof, r.ppl);
  }
  if (torch) {
    const int64_t batch = std::min<int64_t>(windows, 4);  // the evaluation code's batch of 4 windows
    const nlohmann::json t = bench::run_reference(bench::torch_step_command(cfg, batch, seq, 5, true));
    if (t.is_object() && t.contains("median_s")) {
      const double tps = double(batch * seq) / t["median_s"].get<double>();
      fmt::print("{:<16} {:>10} {:>10.2f} {:>12.0f} {:>7.1f}%   (forward + loss, no_grad; torch {}, {} threads)\n",
                 "pytorch FP", "-", double(windows) / double(batch) * t["median_s"].get<double>(), tps,
                 100 * tps * flops / 1e9 / roof, t["torch"].get<std::string>(), t["threads"].get<int>());
      fmt::print("osp FP / pytorch speed: {:.2f}x\n", (n_tokens / rows[0].eval_s) / tps);
    } else {
      fmt::print("pytorch: not run (the command failed)\n");
    }
  }
  return 0;
}
