// RMSNorm / SSNorm entries.
#include "ops/rmsnorm.h"

#include "ops/dispatch.h"

namespace osp::ops {
namespace {
void expect_gain(const TensorView& gain, int64_t d, const char* op) {
  OSP_CHECK((gain.rank() == 0) || (gain.rank() == 1 && gain.dim(0) == d),
            "ops::{}: gain is {}, expected ({}) or () for single scale", op, gain.describe(), d);
}
}  // namespace

void rmsnorm_forward(Context& ctx, TensorView y, TensorView rstd, TensorView x, TensorView gain, float eps) {
  const char* op = "rmsnorm_forward";
  for (const TensorView* v : {&y, &x, &gain}) detail::expect_on(ctx, *v, op, "operand");
  const int64_t n = x.rows(), d = x.cols();
  detail::expect_matrix(y, n, d, op, "y");
  expect_gain(gain, d, op);
  detail::expect_dtype(x, {DType::kF32, DType::kF64}, op, "x");
  detail::expect_same_dtype(gain, x, op);
  if (y.dtype() != DType::kBF16) detail::expect_same_dtype(y, x, op);
  if (!rstd.empty()) detail::expect_numel(rstd, n, op, "rstd"), detail::expect_same_dtype(rstd, x, op);
  OSP_DISPATCH(ctx, rmsnorm_forward, ctx, y, rstd, x, gain, eps);
}

void rmsnorm_backward(Context& ctx, TensorView dx, TensorView dgain, TensorView dy, TensorView x,
                      TensorView rstd, TensorView gain) {
  const char* op = "rmsnorm_backward";
  for (const TensorView* v : {&dx, &dgain, &dy, &x, &rstd, &gain}) {
    detail::expect_on(ctx, *v, op, "operand");
    detail::expect_same_dtype(*v, x, op);
  }
  const int64_t n = x.rows(), d = x.cols();
  detail::expect_matrix(dx, n, d, op, "dx");
  detail::expect_matrix(dy, n, d, op, "dy");
  detail::expect_numel(rstd, n, op, "rstd");
  expect_gain(gain, d, op);
  detail::expect_numel(dgain, gain.numel(), op, "dgain");
  OSP_DISPATCH(ctx, rmsnorm_backward, ctx, dx, dgain, dy, x, rstd, gain);
}

}  // namespace osp::ops
