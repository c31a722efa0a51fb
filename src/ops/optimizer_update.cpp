// Optimizer update entries: all operands fp32, contiguous, the same size.
#include "ops/optimizer_update.h"

#include "ops/dispatch.h"

namespace osp::ops {
namespace {
void check(Context& ctx, std::initializer_list<const TensorView*> views, const char* op) {
  const int64_t n = (*views.begin())->numel();
  for (const TensorView* v : views) {
    detail::expect_on(ctx, *v, op, "operand");
    detail::expect_dtype(*v, {DType::kF32}, op, "operand");
    detail::expect_contiguous(*v, op, "operand");
    detail::expect_numel(*v, n, op, "operand");
  }
}
}  // namespace

void adamw_update(Context& ctx, TensorView w, TensorView g, TensorView m, TensorView v, const AdamWStep& s) {
  check(ctx, {&w, &g, &m, &v}, "adamw_update");
  OSP_DISPATCH(ctx, adamw_update, ctx, w, g, m, v, s);
}

void nesterov_momentum(Context& ctx, TensorView update, TensorView momentum, TensorView g, float beta) {
  check(ctx, {&update, &momentum, &g}, "nesterov_momentum");
  OSP_DISPATCH(ctx, nesterov_momentum, ctx, update, momentum, g, beta);
}

void muon_apply(Context& ctx, TensorView w, TensorView o, float lr, float scale, float wd) {
  check(ctx, {&w, &o}, "muon_apply");
  OSP_DISPATCH(ctx, muon_apply, ctx, w, o, lr, scale, wd);
}

}  // namespace osp::ops
