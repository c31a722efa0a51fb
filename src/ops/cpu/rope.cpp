// CPU rotary position embedding (half-split), forward and backward.
#include "ops/rope.h"

#include <cmath>

#include "core/check.h"

namespace osp::ops {

RopeTable make_rope_table(int64_t max_positions, int64_t head_dim, double theta) {
  OSP_CHECK(head_dim % 2 == 0, "RoPE needs an even head dim, got {}", head_dim);
  RopeTable tab;
  tab.max_positions = max_positions;
  tab.half = head_dim / 2;
  tab.cos.resize(size_t(max_positions * tab.half));
  tab.sin.resize(size_t(max_positions * tab.half));
  for (int64_t i = 0; i < tab.half; ++i) {
    // e_i = fl32(fl32(2i) / Dh); inv_i = fl32(1 / fl32(θ^e_i)); a = fl32(p · inv_i) (spec §1.4).
    const float e = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    const float power = static_cast<float>(std::pow(theta, static_cast<double>(e)));
    const float inv = 1.0f / power;
    for (int64_t p = 0; p < max_positions; ++p) {
      const float a = static_cast<float>(p) * inv;
      tab.cos[size_t(p * tab.half + i)] = static_cast<float>(std::cos(static_cast<double>(a)));
      tab.sin[size_t(p * tab.half + i)] = static_cast<float>(std::sin(static_cast<double>(a)));
    }
  }
  return tab;
}

namespace {

// sign = +1 rotates by a (forward), −1 by −a (the transpose, for backward).
template <class T>
void rope_rotate(T* x, const RopeTable& tab, int64_t b, int64_t t, int64_t heads, T sign) {
  OSP_CHECK(t <= tab.max_positions, "sequence length {} exceeds the RoPE table ({})", t,
            tab.max_positions);
  const int64_t half = tab.half, dh = 2 * half;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t s = 0; s < b; ++s)
    for (int64_t p = 0; p < t; ++p) {
      const float* c = tab.cos.data() + p * half;
      const float* sn = tab.sin.data() + p * half;
      T* row = x + (s * t + p) * heads * dh;
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

template <class T>
void rope_forward(T* x, const RopeTable& table, int64_t b, int64_t t, int64_t heads) {
  rope_rotate(x, table, b, t, heads, T(1));
}
template <class T>
void rope_backward(T* dx, const RopeTable& table, int64_t b, int64_t t, int64_t heads) {
  rope_rotate(dx, table, b, t, heads, T(-1));
}

template void rope_forward<float>(float*, const RopeTable&, int64_t, int64_t, int64_t);
template void rope_forward<double>(double*, const RopeTable&, int64_t, int64_t, int64_t);
template void rope_backward<float>(float*, const RopeTable&, int64_t, int64_t, int64_t);
template void rope_backward<double>(double*, const RopeTable&, int64_t, int64_t, int64_t);

}  // namespace osp::ops
