// RMSNorm with a per-channel gain vector, or single-scale RMSNorm (SSNorm) with one scalar gain
// (osp-method.md §1.3): r = 1/sqrt(mean_j x_j² + eps); y_j = x_j · r · g_j (or · γ).
#pragma once
#include <cstdint>

namespace osp::ops {

// y (n, d) = rmsnorm(x (n, d)); rstd (n) saves r for the backward pass (may be null).
// gain has d entries, or 1 entry when single_scale.
template <class T>
void rmsnorm_forward(T* y, T* rstd, const T* x, const T* gain, int64_t n, int64_t d, float eps,
                     bool single_scale);

// dx (n, d) += ∂loss/∂x; dgain (d, or 1 when single_scale) += ∂loss/∂gain.
template <class T>
void rmsnorm_backward(T* dx, T* dgain, const T* dy, const T* x, const T* rstd, const T* gain,
                      int64_t n, int64_t d, bool single_scale);

}  // namespace osp::ops
