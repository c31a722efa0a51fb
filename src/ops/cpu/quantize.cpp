// CPU activation fake-quantizers (measurement.md §3.5–§3.6). Rows are independent, so every call
// runs its rows in parallel; results do not depend on the batch composition (§2).
#include <algorithm>
#include <cmath>

#include "ops/cpu/backend.h"
#include "ops/cpu/typed.h"

namespace osp::ops::cpu {
namespace {

// x̂ = scale·(clamp(rint(x/scale) + zero, 0, maxq) − zero) for the given range.
template <class T>
inline void fake_quant(T* x, int64_t n, T lo, T hi, T maxq) {
  const T scale = (hi - lo) / maxq;
  const T zero = std::nearbyint(-lo / scale);
  for (int64_t j = 0; j < n; ++j) x[j] = scale * (std::clamp(std::nearbyint(x[j] / scale) + zero, T(0), maxq) - zero);
}

template <class T>
void per_token(T* x, int64_t n, int bits) {
  T lo = 0, hi = 0;  // the range always contains 0 (§3.5)
  for (int64_t j = 0; j < n; ++j) lo = std::min(lo, x[j]), hi = std::max(hi, x[j]);
  if (lo == 0 && hi == 0) lo = -1, hi = 1;
  fake_quant(x, n, lo, hi, T((1 << bits) - 1));
}

// Returns false for a constant non-zero group, which is left exact (Q12).
template <class T>
bool group_exact(T* x, int64_t n, int bits) {
  T lo = x[0], hi = x[0];  // exact min/max: 0 not forced into the range (§3.6)
  for (int64_t j = 1; j < n; ++j) lo = std::min(lo, x[j]), hi = std::max(hi, x[j]);
  if (lo == hi) {
    if (lo != 0) return false;
    lo = -1, hi = 1;
  }
  fake_quant(x, n, lo, hi, T((1 << bits) - 1));
  return true;
}

}  // namespace

void fake_quant_per_token(Context&, TensorView x, int bits) {
  with_float(x.dtype(), "fake_quant_per_token", [&](auto tv) {
    using T = decltype(tv);
    T* p = x.data<T>();
    const int64_t rows = x.rows(), cols = x.cols(), ld = x.ld();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) per_token(p + r * ld, cols, bits);
  });
}

int64_t fake_quant_per_group(Context&, TensorView x, int64_t group, int bits) {
  int64_t constant = 0;
  with_float(x.dtype(), "fake_quant_per_group", [&](auto tv) {
    using T = decltype(tv);
    T* p = x.data<T>();
    const int64_t n = x.numel() / group;
#pragma omp parallel for schedule(static) reduction(+ : constant)
    for (int64_t g = 0; g < n; ++g) constant += group_exact(p + g * group, group, bits) ? 0 : 1;
  });
  return constant;
}

}  // namespace osp::ops::cpu
