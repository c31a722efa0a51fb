// Cross-entropy entries.
#include "ops/cross_entropy.h"

#include "ops/dispatch.h"

namespace osp::ops {

double cross_entropy_forward(Context& ctx, TensorView nll, TensorView lse, TensorView logits, TensorView targets) {
  const char* op = "cross_entropy_forward";
  detail::expect_on(ctx, logits, op, "logits");
  detail::expect_on(ctx, targets, op, "targets");
  detail::expect_dtype(logits, {DType::kF32, DType::kF64}, op, "logits");
  detail::expect_dtype(targets, {DType::kI32}, op, "targets");
  detail::expect_dtype(nll, {DType::kF64}, op, "nll");
  const int64_t n = logits.rows();
  detail::expect_numel(targets, n, op, "targets");
  detail::expect_numel(nll, n, op, "nll");
  if (!lse.empty()) detail::expect_numel(lse, n, op, "lse"), detail::expect_same_dtype(lse, logits, op);
  OSP_DISPATCH_RETURN(ctx, cross_entropy_forward, ctx, nll, lse, logits, targets);
}

void cross_entropy_backward(Context& ctx, TensorView dlogits, TensorView logits, TensorView lse,
                            TensorView targets, double scale) {
  const char* op = "cross_entropy_backward";
  for (const TensorView* v : {&dlogits, &logits, &lse, &targets}) detail::expect_on(ctx, *v, op, "operand");
  detail::expect_dtype(logits, {DType::kF32, DType::kF64}, op, "logits");
  detail::expect_same_dtype(dlogits, logits, op);
  detail::expect_same_dtype(lse, logits, op);
  detail::expect_matrix(dlogits, logits.rows(), logits.cols(), op, "dlogits");
  detail::expect_numel(lse, logits.rows(), op, "lse");
  detail::expect_numel(targets, logits.rows(), op, "targets");
  OSP_DISPATCH(ctx, cross_entropy_backward, ctx, dlogits, logits, lse, targets, scale);
}

}  // namespace osp::ops
