// Benchmark of one training step (forward + loss + backward, no optimizer) of the reference
// ~10M-parameter config at sequence length 256, in fp32 and in bf16 mixed precision, beside the
// same model in PyTorch (eager fp32, and under torch.autocast("cpu", bfloat16); same BLAS kernel
// and thread count) and the machine's GEMM rooflines (ops/roofline.h).
//   build/bench/bench_train_step [--steps N] [--batch B] [--precision fp32|bf16|both] [--no-torch]
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_setup.h"
#include "core/timer.h"
#include "model/flops.h"
#include "model/init.h"
#include "model/llama.h"
#include "ops/gemm.h"
#include "ops/roofline.h"
#include "reference_run.h"

using namespace osp;
using namespace osp::model;

namespace {

struct Measured {
  double step_s = 0;
  int64_t activation_bytes = 0;
};

Measured time_osp(ops::Context& ctx, const ModelConfig& cfg, Precision precision, int64_t batch, int64_t seq,
                  int steps) {
  const ParamTable table(cfg);
  AlignedBuffer<float> params(table.total_elems()), grads(table.total_elems());
  Rng rng(0);
  init_parameters(params.data(), table, cfg, rng);
  const auto w = LlamaWeights<float>::bind(table, params.data());
  const auto g = LlamaWeights<float>::bind(table, grads.data());
  std::vector<int32_t> tokens(size_t(batch * seq)), targets(size_t(batch * seq));
  for (auto& x : tokens) x = int32_t(rng.below(uint64_t(cfg.vocab)));
  for (auto& x : targets) x = int32_t(rng.below(uint64_t(cfg.vocab)));
  Llama<float> model(ctx, cfg, batch, seq, ForwardMode::kTrain, precision);
  std::vector<double> times;
  for (int s = 0; s < steps + 2; ++s) {
    Timer t;
    grads.zero();
    model.cast_weights(w);  // bf16: once per step, as the trainer does after each optimizer step
    model.forward(w, tokens.data(), batch, seq);
    const LossSum l = model.loss(targets.data(), batch, seq);
    model.backward(w, g, tokens.data(), targets.data(), batch, seq, 1.0 / double(l.count));
    if (s >= 2) times.push_back(t.seconds());
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], model.activation_bytes() + model.weight_copy_bytes()};
}

}  // namespace

int main(int argc, char** argv) {
  select_blas_kernel(argv);
  verify_blas(argv);
  enable_flush_to_zero();
  int steps = 10;
  int64_t batch = 8, seq = 256;
  bool torch = true;
  std::string which = "both";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--precision") && i + 1 < argc) which = argv[++i];
    else if (!std::strcmp(argv[i], "--no-torch")) torch = false;
  }
  ModelConfig cfg;  // the reference config: ~10.2M parameters
  cfg.layers = 4, cfg.hidden = 384, cfg.heads = 6, cfg.vocab = 4096, cfg.ffn = 1024;
  cfg = resolve(cfg).value();
  ops::Context ctx = ops::Context::cpu();
  std::vector<Precision> precisions;
  if (which == "fp32" || which == "both") precisions.push_back(Precision::kF32);
  if (which == "bf16" || which == "both") precisions.push_back(Precision::kBF16);

  fmt::print("osp bench_train_step: forward+backward, no optimizer\n");
  fmt::print("CPU: {}; bf16 {}\n", cpu_model_name(),
             ops::bf16_missing_cpu_feature(ctx).empty() ? "native" : "emulated: no " + ops::bf16_missing_cpu_feature(ctx));
  fmt::print("BLAS: {}\nbf16 GEMM: {}\n", blas_description(), ops::bf16_gemm_description(ctx));
  fmt::print("model: {} layers, hidden {}, heads {}, ffn {}, vocab {} ({:.2f}M parameters); batch {} x seq {}\n",
             cfg.layers, cfg.hidden, cfg.heads, cfg.ffn, cfg.vocab, ParamTable(cfg).num_parameters() / 1e6, batch, seq);
  const double flops_per_step = training_flops_per_token(cfg, seq) * double(batch * seq);
  const double tokens_per_step = double(batch * seq);
  fmt::print("{:<22} {:>9} {:>10} {:>9} {:>7} {:>16} {:>10}\n", "engine", "step ms", "tokens/s", "GFLOP/s", "MFU",
             "roofline GFLOP/s", "act. MiB");
  double osp_s[2] = {0, 0}, torch_s[2] = {0, 0};
  for (Precision p : precisions) {
    const ops::Roofline roof = ops::gemm_roofline(ctx, p == Precision::kBF16 ? DType::kBF16 : DType::kF32);
    const Measured m = time_osp(ctx, cfg, p, batch, seq, steps);
    const double gf = flops_per_step / m.step_s / 1e9;
    osp_s[int(p)] = m.step_s;
    fmt::print("{:<22} {:>9.1f} {:>10.0f} {:>9.1f} {:>6.1f}% {:>16.0f} {:>10.1f}\n", "osp " + precision_name(p),
               m.step_s * 1e3, tokens_per_step / m.step_s, gf, 100 * gf / roof.gflops, roof.gflops,
               m.activation_bytes / 1048576.0);
    if (!torch) continue;
    const std::string cmd = bench::torch_step_command(cfg, batch, seq, steps, false) +
                            (p == Precision::kBF16 ? " --autocast-bf16" : "");
    const nlohmann::json r = bench::run_reference(cmd);
    if (!r.is_object() || !r.contains("median_s")) {
      fmt::print("pytorch: not run (the command failed: {})\n", cmd);
      continue;
    }
    const double ts = r["median_s"].get<double>(), tg = flops_per_step / ts / 1e9;
    torch_s[int(p)] = ts;
    fmt::print("{:<22} {:>9.1f} {:>10.0f} {:>9.1f} {:>6.1f}% {:>16.0f} {:>10}\n",
               p == Precision::kBF16 ? "pytorch autocast bf16" : "pytorch fp32", ts * 1e3, tokens_per_step / ts, tg,
               100 * tg / roof.gflops, roof.gflops, "");
    if (p == precisions.back())
      fmt::print("(torch {}, {} threads, OPENBLAS_CORETYPE={})\n", r["torch"].get<std::string>(),
                 r["threads"].get<int>(), r["blas"].get<std::string>());
  }
  for (int p = 0; p < 2; ++p)
    if (osp_s[p] > 0 && torch_s[p] > 0)
      fmt::print("osp / pytorch {}: {:.2f}x\n", p == 0 ? "fp32" : "bf16", torch_s[p] / osp_s[p]);
  if (osp_s[0] > 0 && osp_s[1] > 0) fmt::print("osp bf16 / osp fp32 speed: {:.2f}x\n", osp_s[0] / osp_s[1]);
  return 0;
}
