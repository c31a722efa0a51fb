// Activation statistics entry.
#include "ops/row_stats.h"

#include "ops/dispatch.h"

namespace osp::ops {

void activation_row_stats(Context& ctx, TensorView kurtosis, TensorView max_ratio, TensorView max_channel,
                          TensorView x) {
  const char* op = "activation_row_stats";
  detail::expect_on(ctx, x, op, "x");
  detail::expect_dtype(x, {DType::kF32}, op, "x");
  detail::expect_dtype(kurtosis, {DType::kF64}, op, "kurtosis");
  detail::expect_dtype(max_ratio, {DType::kF64}, op, "max_ratio");
  detail::expect_dtype(max_channel, {DType::kI32}, op, "max_channel");
  for (const TensorView* v : {&kurtosis, &max_ratio, &max_channel}) detail::expect_numel(*v, x.rows(), op, "output");
  OSP_DISPATCH(ctx, activation_row_stats, ctx, kurtosis, max_ratio, max_channel, x);
}

namespace {
void expect_column_reduce(Context& ctx, TensorView out, TensorView x, const char* op) {
  detail::expect_on(ctx, x, op, "x");
  detail::expect_dtype(x, {DType::kF32}, op, "x");
  detail::expect_dtype(out, {DType::kF64}, op, "output");
  detail::expect_numel(out, x.cols(), op, "output");
}
}  // namespace

void column_abs_max(Context& ctx, TensorView channel_max, TensorView x) {
  expect_column_reduce(ctx, channel_max, x, "column_abs_max");
  OSP_DISPATCH(ctx, column_abs_max, ctx, channel_max, x);
}

void column_abs_sum(Context& ctx, TensorView channel_sum, TensorView x) {
  expect_column_reduce(ctx, channel_sum, x, "column_abs_sum");
  OSP_DISPATCH(ctx, column_abs_sum, ctx, channel_sum, x);
}

}  // namespace osp::ops
