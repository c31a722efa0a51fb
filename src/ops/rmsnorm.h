// RMSNorm with a per-channel gain vector, or single-scale RMSNorm (SSNorm) with one scalar gain
// (osp-method.md §1.3): r = 1/sqrt(mean_j x_j² + eps); y_j = x_j · r · g_j (or · γ).
// The gain's rank tells them apart: (d) per channel, () single scale.
#pragma once
#include "ops/context.h"

namespace osp::ops {

// y (n, d) = rmsnorm(x (n, d)); rstd (n) keeps r for the backward pass (may be empty).
// x, rstd, gain: f32 or f64; y: the same, or bf16 (statistics in fp32, rounded once at the store).
void rmsnorm_forward(Context& ctx, TensorView y, TensorView rstd, TensorView x, TensorView gain, float eps);

// dx (n, d) += ∂loss/∂x; dgain (d) or () += ∂loss/∂gain. All one dtype (f32 or f64).
void rmsnorm_backward(Context& ctx, TensorView dx, TensorView dgain, TensorView dy, TensorView x,
                      TensorView rstd, TensorView gain);

}  // namespace osp::ops
