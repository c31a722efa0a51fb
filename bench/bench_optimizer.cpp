// Optimizer cost: one AdamW step and one Muon (OSP groups) step of the reference config, as a
// fraction of the same model's forward+backward; then how Muon's Newton–Schulz share scales with
// hidden size and tokens per step (measured NS5 time per layer against the layer's measured
// forward+backward GEMM time at that token count).
//   build/bench/bench_optimizer [--batch B]
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/cpu_setup.h"
#include "core/rng.h"
#include "core/timer.h"
#include "model/init.h"
#include "model/llama.h"
#include "ops/roofline.h"
#include "optim/newton_schulz.h"
#include "optim/optimizer.h"

namespace {

using namespace osp;

template <class F>
double median_seconds(int reps, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps + 1; ++i) {
    Timer timer;
    f();
    if (i > 0) t.push_back(timer.seconds());  // the first run warms caches and allocations
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  select_blas_kernel(argv);
  verify_blas(argv);
  enable_flush_to_zero();
  int64_t batch = 8;
  const int64_t seq = 256;
  ops::Context ctx = ops::Context::cpu();
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[++i]);

  fmt::print("osp bench_optimizer\nBLAS: {}\n", blas_description());
  model::ModelConfig base;
  base.layers = 4, base.hidden = 384, base.heads = 6, base.vocab = 4096, base.ffn = 1024;
  fmt::print("reference config: 4 layers, hidden 384, ffn 1024, vocab 4096; {} x {} tokens per step\n", batch, seq);
  fmt::print("{:<34} {:>12} {:>12} {:>10}\n", "groups (architecture)", "fwd+bwd ms", "optim ms", "optim/fb");
  for (const char* groups : {"adam", "muon"}) {
    model::ModelConfig c = base;
    optim::OptimConfig oc;
    oc.groups = optim::parse_groups(groups).value();
    if (oc.groups == optim::GroupsKind::kMuon) c.norm = model::NormKind::kSingleScale, c.emb_proj = true;
    c = model::resolve(c).value();
    const model::ParamTable table(c);
    AlignedBuffer<float> params(table.total_elems()), grads(table.total_elems());
    Rng rng(0);
    model::init_parameters(params.data(), table, c, rng);
    const auto w = model::LlamaWeights<float>::bind(table, params.data());
    const auto g = model::LlamaWeights<float>::bind(table, grads.data());
    std::vector<int32_t> tokens(size_t(batch * seq)), targets(size_t(batch * seq));
    for (auto& x : tokens) x = int32_t(rng.below(4096));
    for (auto& x : targets) x = int32_t(rng.below(4096));
    model::Llama<float> m(ctx, c, batch, seq, model::ForwardMode::kTrain);
    const double fb = median_seconds(5, [&] {
      grads.zero();
      m.forward(w, tokens.data(), batch, seq);
      const auto l = m.loss(targets.data(), batch, seq);
      m.backward(w, g, tokens.data(), targets.data(), batch, seq, float(1.0 / double(l.count)));
    });
    optim::Optimizer opt(ctx, table, oc);
    const double os = median_seconds(5, [&] { opt.step(params.data(), grads.data(), 1.0); });
    fmt::print("{:<34} {:>12.1f} {:>12.2f} {:>9.1f}%\n",
               fmt::format("{} ({})", groups, oc.groups == optim::GroupsKind::kMuon ? "SSNorm + EmbProj" : "RMSNorm"),
               fb * 1e3, os * 1e3, 100 * os / fb);
  }

  // Scaling: NS5 on one layer's matrices (q, k, v, o: D×D; gate, up: F×D; down: D×F) against the
  // layer's forward+backward GEMMs (6 FLOPs per weight per token) at the measured GEMM rate.
  const double peak = ops::gemm_roofline(ctx, DType::kF32).gflops * 1e9;
  fmt::print("\nMuon NS5 per layer vs the layer's forward+backward (at SGEMM {:.0f} GFLOP/s)\n", peak / 1e9);
  fmt::print("{:>7} {:>10} {:>12} {:>12} {:>12} {:>12} {:>14}\n", "hidden", "NS5 ms", "B=2K", "B=16K", "B=64K", "B=512K",
             "bf16 NS5 ms");
  for (int64_t d : {256, 384, 768, 1024}) {
    const int64_t f = model::default_ffn_size(d);
    std::vector<float> sq(size_t(d * d)), wide(size_t(f * d));
    Rng rng(1);
    for (auto& x : sq) x = float(rng.normal());
    for (auto& x : wide) x = float(rng.normal());
    optim::NsWorkspace ws;
    auto layer_ns = [&](optim::NsPrecision p) {
      const double t_sq = median_seconds(3, [&] {
        const TensorView v = TensorView::of(sq.data(), {d, d});
        optim::newton_schulz(ctx, v, v, 5, 1e-8, p, ws);
      });
      const double t_wide = median_seconds(3, [&] {
        const TensorView v = TensorView::of(wide.data(), {f, d});
        optim::newton_schulz(ctx, v, v, 5, 1e-8, p, ws);
      });
      return 4 * t_sq + 3 * t_wide;
    };
    const double ns = layer_ns(optim::NsPrecision::kF32), ns_bf16 = layer_ns(optim::NsPrecision::kBF16);
    const double layer_weights = double(4 * d * d + 3 * d * f);
    std::string row = fmt::format("{:>7} {:>10.2f}", d, ns * 1e3);
    for (double b : {2048.0, 16384.0, 65536.0, 524288.0}) row += fmt::format(" {:>11.2f}%", 100 * ns / (6 * layer_weights * b / peak));
    fmt::print("{} {:>14.2f}\n", row, ns_bf16 * 1e3);
  }
  fmt::print("(the spec's estimate: at most 5·m/B of the matrix's forward+backward for an m×n matrix, m ≤ n)\n");
  return 0;
}
