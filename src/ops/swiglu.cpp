// SwiGLU entries.
#include "ops/swiglu.h"

#include "ops/dispatch.h"

namespace osp::ops {

void swiglu_forward(Context& ctx, TensorView h, TensorView gate, TensorView up) {
  const char* op = "swiglu_forward";
  for (const TensorView* v : {&h, &gate, &up}) {
    detail::expect_on(ctx, *v, op, "operand");
    detail::expect_contiguous(*v, op, "operand");
    detail::expect_numel(*v, gate.numel(), op, "operand");
  }
  detail::expect_dtype(gate, {DType::kF32, DType::kF64}, op, "gate");
  detail::expect_same_dtype(gate, up, op);
  if (h.dtype() != DType::kBF16) detail::expect_same_dtype(h, gate, op);
  OSP_DISPATCH(ctx, swiglu_forward, ctx, h, gate, up);
}

void swiglu_backward(Context& ctx, TensorView dgate, TensorView dup, TensorView dh, TensorView gate, TensorView up) {
  const char* op = "swiglu_backward";
  for (const TensorView* v : {&dgate, &dup, &dh, &gate, &up}) {
    detail::expect_on(ctx, *v, op, "operand");
    detail::expect_contiguous(*v, op, "operand");
    detail::expect_numel(*v, gate.numel(), op, "operand");
    detail::expect_same_dtype(*v, gate, op);
  }
  detail::expect_dtype(gate, {DType::kF32, DType::kF64}, op, "gate");
  OSP_DISPATCH(ctx, swiglu_backward, ctx, dgate, dup, dh, gate, up);
}

}  // namespace osp::ops
