// CPU SwiGLU, forward and backward.
#include "ops/cpu/backend.h"
#include "ops/cpu/typed.h"
#include "ops/cpu/vec_math.h"

namespace osp::ops::cpu {

void swiglu_forward(Context&, TensorView h, TensorView gate, TensorView up) {
  with_float_out(gate.dtype(), h.dtype(), "swiglu_forward", [&](auto tv, auto ov) {
    using T = decltype(tv);
    using O = decltype(ov);
    O* hp = h.data<O>();
    const T *gp = gate.data<T>(), *upp = up.data<T>();
    const int64_t n = gate.numel();
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const T g = gp[i];
      hp[i] = store_as<O>(g / (T(1) + fast_exp(-g)) * upp[i]);
    }
  });
}

void swiglu_backward(Context&, TensorView dgate, TensorView dup, TensorView dh, TensorView gate, TensorView up) {
  with_float(gate.dtype(), "swiglu_backward", [&](auto tv) {
    using T = decltype(tv);
    T *dg = dgate.data<T>(), *du = dup.data<T>();
    const T *dhp = dh.data<T>(), *gp = gate.data<T>(), *upp = up.data<T>();
    const int64_t n = gate.numel();
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const T g = gp[i];
      const T sig = T(1) / (T(1) + fast_exp(-g));
      const T silu = g * sig;
      // silu'(g) = σ(g) · (1 + g · (1 − σ(g)))
      dg[i] = dhp[i] * upp[i] * sig * (T(1) + g * (T(1) - sig));
      du[i] = dhp[i] * silu;
    }
  });
}

}  // namespace osp::ops::cpu
