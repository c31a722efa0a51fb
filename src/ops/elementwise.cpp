// Entries of the elementwise ops.
#include "ops/elementwise.h"

#include "ops/dispatch.h"

namespace osp::ops {

void copy(Context& ctx, TensorView dst, TensorView src) {
  detail::expect_on(ctx, dst, "copy", "dst");
  detail::expect_on(ctx, src, "copy", "src");
  detail::expect_same_dtype(dst, src, "copy");
  detail::expect_matrix(dst, src.rows(), src.cols(), "copy", "dst");
  OSP_DISPATCH(ctx, copy, ctx, dst, src);
}

void zero(Context& ctx, TensorView dst) {
  detail::expect_on(ctx, dst, "zero", "dst");
  OSP_DISPATCH(ctx, zero, ctx, dst);
}

void cast(Context& ctx, TensorView dst, TensorView src) {
  detail::expect_on(ctx, dst, "cast", "dst");
  detail::expect_on(ctx, src, "cast", "src");
  detail::expect_numel(dst, src.numel(), "cast", "dst");
  for (const TensorView* v : {&dst, &src}) {
    detail::expect_dtype(*v, {DType::kF32, DType::kF64, DType::kBF16}, "cast", "operand");
    detail::expect_contiguous(*v, "cast", "operand");
  }
  OSP_DISPATCH(ctx, cast, ctx, dst, src);
}

void scale(Context& ctx, TensorView x, double alpha) {
  detail::expect_on(ctx, x, "scale", "x");
  detail::expect_dtype(x, {DType::kF32, DType::kF64}, "scale", "x");
  detail::expect_contiguous(x, "scale", "x");
  OSP_DISPATCH(ctx, scale, ctx, x, alpha);
}

double sum_squares(Context& ctx, TensorView x) {
  detail::expect_on(ctx, x, "sum_squares", "x");
  detail::expect_dtype(x, {DType::kF32, DType::kF64}, "sum_squares", "x");
  detail::expect_contiguous(x, "sum_squares", "x");
  OSP_DISPATCH_RETURN(ctx, sum_squares, ctx, x);
}

}  // namespace osp::ops
