// CPU SwiGLU, forward and backward.
#include "ops/swiglu.h"
#include "ops/cpu/vec_math.h"

#include <cmath>

namespace osp::ops {

using cpu::fast_exp;

template <class T>
void swiglu_forward(T* h, const T* gate, const T* up, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T g = gate[i];
    h[i] = g / (T(1) + fast_exp(-g)) * up[i];
  }
}

template <class T>
void swiglu_backward(T* dgate, T* dup, const T* dh, const T* gate, const T* up, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T g = gate[i];
    const T sig = T(1) / (T(1) + fast_exp(-g));
    const T silu = g * sig;
    // silu'(g) = σ(g) · (1 + g · (1 − σ(g)))
    dgate[i] = dh[i] * up[i] * sig * (T(1) + g * (T(1) - sig));
    dup[i] = dh[i] * silu;
  }
}

template void swiglu_forward<float>(float*, const float*, const float*, int64_t);
template void swiglu_forward<double>(double*, const double*, const double*, int64_t);
template void swiglu_backward<float>(float*, float*, const float*, const float*, const float*, int64_t);
template void swiglu_backward<double>(double*, double*, const double*, const double*, const double*,
                                      int64_t);

}  // namespace osp::ops
