// Linear layers. Weights are stored (out, in) row-major, as in PyTorch and Hugging Face, and applied
// to row vectors as y = x · Wᵀ; import and export are therefore plain copies (osp-method.md §0).
#pragma once
#include <cstdint>

namespace osp::ops {

// y (n, out) = x (n, in) · wᵀ, with w (out, in). With accumulate, y += x · wᵀ instead.
template <class T>
void matmul_forward(T* y, const T* x, const T* w, int64_t n, int64_t in, int64_t out,
                    bool accumulate = false);

// Gradients of y = x · wᵀ. dw (out, in) += dyᵀ · x always accumulates (gradient accumulation,
// tied weights). dx (n, in) = dy · w, or += when accumulate_dx (an input read by several layers).
// Either of dx / dw may be null to skip it.
template <class T>
void matmul_backward(T* dx, T* dw, const T* dy, const T* x, const T* w, int64_t n, int64_t in,
                     int64_t out, bool accumulate_dx = false);

}  // namespace osp::ops
