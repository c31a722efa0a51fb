// GEMM rates behind the two precisions: ops::gemm with fp32 operands (OpenBLAS) and with bf16
// operands (oneDNN, fp32 accumulation) at the shapes of the reference 10.2M model's training step
// (8 x 256 tokens, hidden 384, ffn 1024, vocab 4096) and at 2048³. Best of 5 after a warm-up.
//   build/bench/bench_gemm
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu_setup.h"
#include "ops/elementwise.h"
#include "ops/gemm.h"

using namespace osp;

namespace {

double gflops(ops::Context& ctx, DType dtype, int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
  Tensor a32(DType::kF32, {m * k}), b32(DType::kF32, {k * n}), c(DType::kF32, {m, n});
  for (int64_t i = 0; i < m * k; ++i) a32.data<float>()[i] = float(i % 17) / 17.0f - 0.5f;
  for (int64_t i = 0; i < k * n; ++i) b32.data<float>()[i] = float(i % 13) / 13.0f - 0.5f;
  Tensor a(dtype, {m * k}), b(dtype, {k * n});
  ops::cast(ctx, a, a32);
  ops::cast(ctx, b, b32);
  const TensorView av = ta ? a.view().reshaped({k, m}) : a.view().reshaped({m, k});
  const TensorView bv = tb ? b.view().reshaped({n, k}) : b.view().reshaped({k, n});
  const ops::GemmOp op{.trans_a = ta, .trans_b = tb, .alpha = 1.0, .beta = 0.0};
  ops::gemm(ctx, c, av, bv, op);
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    ops::gemm(ctx, c, av, bv, op);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * double(m) * double(n) * double(k) / s / 1e9);
  }
  return best;
}

}  // namespace

int main(int /*argc*/, char** argv) {
  select_blas_kernel(argv);
  verify_blas(argv);
  enable_flush_to_zero();
  ops::Context ctx = ops::Context::cpu();
  const std::string missing = ops::bf16_missing_cpu_feature(ctx);
  fmt::print("osp bench_gemm: {}\nCPU: {}; bf16 {}\nfp32: {}\nbf16: {}\n", ctx.describe(), cpu_model_name(),
             missing.empty() ? "native" : "emulated (no " + missing + ")", blas_description(),
             ops::bf16_gemm_description(ctx));
  struct Shape {
    const char* what;
    int64_t m, n, k;
    bool ta, tb;
  };
  const Shape shapes[] = {{"2048^3", 2048, 2048, 2048, false, true},
                          {"q/k/v/o forward: x·Wᵀ", 2048, 384, 384, false, true},
                          {"gate/up forward", 2048, 1024, 384, false, true},
                          {"down forward", 2048, 384, 1024, false, true},
                          {"head forward", 2048, 4096, 384, false, true},
                          {"down dx: dy·W", 2048, 1024, 384, false, false},
                          {"gate dW: dyᵀ·x", 1024, 384, 2048, true, false},
                          {"head dW: dyᵀ·x", 4096, 384, 2048, true, false}};
  fmt::print("{:<24} {:>16} {:>12} {:>12} {:>8}\n", "product", "m x n x k", "fp32 GF/s", "bf16 GF/s", "bf16/fp32");
  for (const Shape& s : shapes) {
    const double f = gflops(ctx, DType::kF32, s.m, s.n, s.k, s.ta, s.tb);
    const double h = gflops(ctx, DType::kBF16, s.m, s.n, s.k, s.ta, s.tb);
    fmt::print("{:<24} {:>16} {:>12.1f} {:>12.1f} {:>7.2f}x\n", s.what, fmt::format("{}x{}x{}", s.m, s.n, s.k), f, h,
               h / f);
  }
  return 0;
}
