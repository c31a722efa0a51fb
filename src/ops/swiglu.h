// SwiGLU gating: h = silu(gate) ⊙ up, silu(z) = z · sigmoid(z) (osp-method.md §1.5).
#pragma once
#include "ops/context.h"

namespace osp::ops {

// h = silu(gate) · up, elementwise over same-shaped views. gate, up: f32 or f64; h: the same or
// bf16 (computed in the inputs' type, rounded once).
void swiglu_forward(Context& ctx, TensorView h, TensorView gate, TensorView up);

// dgate = dh · up · silu'(gate); dup = dh · silu(gate). Overwrites both; all one dtype.
void swiglu_backward(Context& ctx, TensorView dgate, TensorView dup, TensorView dh, TensorView gate, TensorView up);

}  // namespace osp::ops
