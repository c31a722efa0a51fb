// SwiGLU gating: h = silu(gate) ⊙ up, silu(z) = z · sigmoid(z) (osp-method.md §1.5).
#pragma once
#include <cstdint>

namespace osp::ops {

// h (n) = silu(gate (n)) · up (n), elementwise over n values.
template <class T>
void swiglu_forward(T* h, const T* gate, const T* up, int64_t n);

// dgate = dh · up · silu'(gate); dup = dh · silu(gate). Overwrites both.
template <class T>
void swiglu_backward(T* dgate, T* dup, const T* dh, const T* gate, const T* up, int64_t n);

}  // namespace osp::ops
