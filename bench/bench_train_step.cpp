// Benchmark of one training step (forward + loss + backward, no optimizer) of the reference
// ~10M-parameter config at sequence length 256, beside the same model in PyTorch (eager, fp32,
// same BLAS kernel and thread count) and the machine's measured SGEMM roofline.
//   build/bench/bench_train_step [--steps N] [--batch B] [--no-torch]
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_setup.h"
#include "core/rng.h"
#include "core/timer.h"
#include "model/flops.h"
#include "model/init.h"
#include "model/llama.h"
#include "reference_run.h"

using namespace osp;
using namespace osp::model;

int main(int argc, char** argv) {
  select_blas_kernel(argv);
  verify_blas(argv);
  enable_flush_to_zero();
  int steps = 10;
  int64_t batch = 8, seq = 256;
  bool torch = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-torch")) torch = false;
  }
  ModelConfig cfg;  // the reference config: ~10.2M parameters
  cfg.layers = 4, cfg.hidden = 384, cfg.heads = 6, cfg.vocab = 4096, cfg.ffn = 1024;
  cfg = resolve(cfg).value();
  const ParamTable table(cfg);
  AlignedBuffer<float> params(table.total_elems()), grads(table.total_elems());
  Rng rng(0);
  init_parameters(params.data(), table, cfg, rng);
  const auto w = LlamaWeights<float>::bind(table, params.data());
  const auto g = LlamaWeights<float>::bind(table, grads.data());
  std::vector<int32_t> tokens(size_t(batch * seq)), targets(size_t(batch * seq));
  for (auto& x : tokens) x = int32_t(rng.below(uint64_t(cfg.vocab)));
  for (auto& x : targets) x = int32_t(rng.below(uint64_t(cfg.vocab)));

  Llama<float> model(cfg, batch, seq, ForwardMode::kTrain);
  std::vector<double> times;
  for (int s = 0; s < steps + 2; ++s) {
    Timer t;
    grads.zero();
    model.forward(w, tokens.data(), batch, seq);
    const LossSum l = model.loss(targets.data(), batch, seq);
    model.backward(w, g, tokens.data(), targets.data(), batch, seq, float(1.0 / double(l.count)));
    if (s >= 2) times.push_back(t.seconds());
  }
  std::sort(times.begin(), times.end());
  const double step_s = times[times.size() / 2];
  const double tokens_per_step = double(batch * seq);
  const double gflops = training_flops_per_token(cfg, seq) * tokens_per_step / step_s / 1e9;
  const double roof = measure_sgemm_gflops(2048, 5);

  fmt::print("osp bench_train_step: forward+backward, no optimizer\n");
  fmt::print("BLAS: {}\n", blas_description());
  fmt::print("model: {} layers, hidden {}, heads {}, ffn {}, vocab {} ({:.2f}M parameters); batch {} x seq {}\n",
             cfg.layers, cfg.hidden, cfg.heads, cfg.ffn, cfg.vocab, table.num_parameters() / 1e6, batch, seq);
  fmt::print("roofline: SGEMM 2048^3 = {:.1f} GFLOP/s\n", roof);
  fmt::print("{:<10} {:>10} {:>12} {:>10} {:>8}\n", "engine", "step ms", "tokens/s", "GFLOP/s", "MFU");
  fmt::print("{:<10} {:>10.1f} {:>12.0f} {:>10.1f} {:>7.1f}%\n", "osp", step_s * 1e3,
             tokens_per_step / step_s, gflops, 100 * gflops / roof);
  if (torch) {
    const nlohmann::json r = bench::run_reference(bench::torch_step_command(cfg, batch, seq, steps, false));
    if (r.is_object() && r.contains("median_s")) {
      const double ts = r["median_s"].get<double>();
      const double tg = training_flops_per_token(cfg, seq) * tokens_per_step / ts / 1e9;
      fmt::print("{:<10} {:>10.1f} {:>12.0f} {:>10.1f} {:>7.1f}%\n", "pytorch", ts * 1e3,
                 tokens_per_step / ts, tg, 100 * tg / roof);
      fmt::print("osp / pytorch speed: {:.2f}x  (torch {}, {} threads, OPENBLAS_CORETYPE={})\n",
                 ts / step_s, r["torch"].get<std::string>(), r["threads"].get<int>(),
                 r["blas"].get<std::string>());
    } else {
      fmt::print("pytorch: not run (the command failed: {})\n", bench::torch_step_command(cfg, batch, seq, steps, false));
    }
  }
  return 0;
}
