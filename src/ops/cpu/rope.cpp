// CPU rotary position embedding (half-split), forward and backward.
#include "ops/cpu/backend.h"
#include "ops/cpu/typed.h"

namespace osp::ops::cpu {
namespace {

// sign = +1 rotates by a (forward), −1 by −a (the transpose, for backward).
template <class T>
void rotate(T* x, const RopeTable& tab, int64_t rows, int64_t seq, int64_t heads, T sign) {
  const int64_t half = tab.half, dh = 2 * half;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t p = r % seq;
    const float* c = tab.cos.data() + p * half;
    const float* sn = tab.sin.data() + p * half;
    T* row = x + r * heads * dh;
    for (int64_t h = 0; h < heads; ++h) {
      T* lo = row + h * dh;
      T* hi = lo + half;
#pragma omp simd
      for (int64_t i = 0; i < half; ++i) {
        const T ci = c[i], si = sign * T(sn[i]);
        const T a = lo[i], bb = hi[i];
        lo[i] = a * ci - bb * si;
        hi[i] = bb * ci + a * si;
      }
    }
  }
}

}  // namespace

void rope_rotate(Context&, TensorView x, const RopeTable& table, int64_t seq, bool inverse) {
  with_float(x.dtype(), "rope", [&](auto tv) {
    using T = decltype(tv);
    rotate(x.data<T>(), table, x.rows(), seq, x.cols() / (2 * table.half), inverse ? T(-1) : T(1));
  });
}

}  // namespace osp::ops::cpu
