// NS5 through ops::gemm (f32, or bf16 operands with fp32 accumulation).
#include "optim/newton_schulz.h"

#include <algorithm>
#include <cmath>

#include "ops/elementwise.h"
#include "ops/gemm.h"

namespace osp::optim {
namespace {

// A (rows, cols) view of t, reallocated when it is too small.
TensorView scratch(Tensor& t, DType dtype, int64_t rows, int64_t cols) {
  if (t.numel() < rows * cols) t = Tensor(dtype, {rows * cols});
  return t.view().prefix({rows, cols});
}

}  // namespace

double newton_schulz_flops(int64_t m, int64_t n, int steps) {
  const double r = double(std::min(m, n)), c = double(std::max(m, n));
  return steps * (4 * r * r * c + 2 * r * r * r);
}

void newton_schulz(ops::Context& ctx, TensorView out, TensorView u, int steps, double eps, NsPrecision precision,
                   NsWorkspace& ws, NsCoefficients k) {
  const int64_t m = u.rows(), n = u.cols(), r = std::min(m, n);
  const bool tall = m > n;  // A = XᵀX and X·B instead of X·Xᵀ and B·X
  TensorView x = scratch(ws.x, DType::kF32, m, n), y = scratch(ws.y, DType::kF32, m, n);
  TensorView a = scratch(ws.a, DType::kF32, r, r), b = scratch(ws.b, DType::kF32, r, r);
  const float inv = float(1.0 / (std::sqrt(ops::sum_squares(ctx, u)) + eps));
  ops::copy(ctx, x, u);
  ops::scale(ctx, x, inv);
  const ops::GemmOp gram{.trans_a = tall, .trans_b = !tall, .alpha = 1.0, .beta = 0.0};
  const ops::GemmOp square{.trans_a = false, .trans_b = false, .alpha = k.c, .beta = k.b};
  const ops::GemmOp update{.trans_a = false, .trans_b = false, .alpha = 1.0, .beta = k.a};
  if (precision == NsPrecision::kF32) {
    for (int it = 0; it < steps; ++it) {
      ops::gemm(ctx, a, x, x, gram);  // A = X·Xᵀ (wide) or XᵀX (tall)
      ops::copy(ctx, b, a);
      ops::gemm(ctx, b, a, a, square);  // B = b·A + c·A·A
      ops::copy(ctx, y, x);
      if (tall) ops::gemm(ctx, y, x, b, update);  // X ← a·X + X·B
      else ops::gemm(ctx, y, b, x, update);       // X ← a·X + B·X
      std::swap(x, y);
    }
    ops::copy(ctx, out, x);
    return;
  }
  // bf16: the operands of every product are the bf16 values; each result is rounded once.
  TensorView xh = scratch(ws.xh, DType::kBF16, m, n), ah = scratch(ws.ah, DType::kBF16, r, r);
  TensorView bh = scratch(ws.bh, DType::kBF16, r, r);
  ops::cast(ctx, xh, x);
  for (int it = 0; it < steps; ++it) {
    ops::gemm(ctx, a, xh, xh, gram);
    ops::cast(ctx, ah, a);
    ops::cast(ctx, b, ah);
    ops::gemm(ctx, b, ah, ah, square);
    ops::cast(ctx, bh, b);
    ops::cast(ctx, y, xh);
    if (tall) ops::gemm(ctx, y, xh, bh, update);
    else ops::gemm(ctx, y, bh, xh, update);
    ops::cast(ctx, xh, y);
  }
  ops::cast(ctx, out, xh);
}

}  // namespace osp::optim
