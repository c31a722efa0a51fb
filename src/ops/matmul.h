// Linear layers. Weights are stored (out, in) row-major, as in PyTorch and Hugging Face, and applied
// to row vectors as y = x · Wᵀ; import and export are therefore plain copies (osp-method.md §0).
// Built on ops::gemm, so they run wherever gemm does. Mixed precision: x, w (and dy) bf16 with
// y, dx, dw fp32 — bf16 operands, fp32 accumulation (docs/engine.md, precision policy).
#pragma once
#include "ops/context.h"

namespace osp::ops {

// y (n, out) = x (n, in) · wᵀ, with w (out, in). With accumulate, y += x · wᵀ instead.
// x, w: f32, f64 or bf16 (the same); y: f64 for f64 operands, else f32.
void matmul_forward(Context& ctx, TensorView y, TensorView x, TensorView w, bool accumulate = false);

// Gradients of y = x · wᵀ; dy has the operands' dtype. dw (out, in) += dyᵀ · x always accumulates
// (gradient accumulation, tied weights). dx (n, in) = dy · w, or += when accumulate_dx (an input
// read by several layers). An empty dx or dw view skips it.
void matmul_backward(Context& ctx, TensorView dx, TensorView dw, TensorView dy, TensorView x, TensorView w,
                     bool accumulate_dx = false);

}  // namespace osp::ops
