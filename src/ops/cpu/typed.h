// Dtype dispatch inside the CPU backend: a view's runtime dtype picks a kernel's template
// instance. Kernels compute in T (float or double) and store outputs as O (T, or BFloat16 for the
// bf16 activations of mixed precision), rounding once at the store.
#pragma once
#include <utility>

#include "core/check.h"
#include "core/dtype.h"

namespace osp::ops::cpu {

// Calls f(T{}) with T = float or double for an f32 or f64 dtype.
template <class F>
void with_float(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::kF32: f(float{}); return;
    case DType::kF64: f(double{}); return;
    default: OSP_CHECK(false, "ops::{}: no CPU kernel for {}", op, dtype_name(d));
  }
}

// Calls f(T{}, O{}) for compute dtype t (f32 / f64) and output dtype out (t itself, or bf16 when
// t is f32).
template <class F>
void with_float_out(DType t, DType out, const char* op, F&& f) {
  with_float(t, op, [&](auto tv) {
    using T = decltype(tv);
    if (out == DType::kBF16) {
      OSP_CHECK((std::is_same_v<T, float>), "ops::{}: bf16 output needs f32 inputs", op);
      if constexpr (std::is_same_v<T, float>) f(T{}, BFloat16{});
    } else {
      f(T{}, T{});
    }
  });
}

template <class O, class T>
inline O store_as(T v) {
  if constexpr (std::is_same_v<O, BFloat16>) return to_bf16(float(v));
  else return O(v);
}

}  // namespace osp::ops::cpu
