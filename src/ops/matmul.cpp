// Linear layers as GEMMs (device-independent: ops::gemm dispatches).
#include "ops/matmul.h"

#include "ops/gemm.h"

namespace osp::ops {

void matmul_forward(Context& ctx, TensorView y, TensorView x, TensorView w, bool accumulate) {
  // y (n, out) = x (n, in) · wᵀ
  gemm(ctx, y, x, w, {.trans_a = false, .trans_b = true, .alpha = 1.0, .beta = accumulate ? 1.0 : 0.0});
}

void matmul_backward(Context& ctx, TensorView dx, TensorView dw, TensorView dy, TensorView x, TensorView w,
                     bool accumulate_dx) {
  if (!dx.empty())  // dx (n, in) = dy (n, out) · w (out, in)
    gemm(ctx, dx, dy, w, {.trans_a = false, .trans_b = false, .alpha = 1.0, .beta = accumulate_dx ? 1.0 : 0.0});
  if (!dw.empty())  // dw (out, in) += dyᵀ (out, n) · x (n, in)
    gemm(ctx, dw, dy, x, {.trans_a = true, .trans_b = false, .alpha = 1.0, .beta = 1.0});
}

}  // namespace osp::ops
