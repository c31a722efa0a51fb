// CPU Hadamard transform (measurement.md §3.8): per row, K unnormalised FWHTs of n/K values, then
// the ±1 product with H_K, then the division by √n.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/backend.h"
#include "ops/cpu/typed.h"

namespace osp::ops::cpu {
namespace {

// Unnormalised FWHT of n = 2^m values in place: x ← x·H_n (natural-order Sylvester, §3.8 butterflies).
template <class T>
void fwht(T* x, int64_t n) {
  for (int64_t h = 1; h < n; h *= 2)
    for (int64_t i = 0; i < n; i += 2 * h)
      for (int64_t j = i; j < i + h; ++j) {
        const T a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
}

// a (as A: K × n/K, row-major) ← H_K · (A · H_{n/K}) / √n.
template <class T>
void transform(T* rows, int64_t count, int64_t n, std::span<const int8_t> hk, int64_t k) {
  const int64_t m = n / k;
  const T sq = std::sqrt(T(n));  // divided by √n (§3.8), not multiplied by 1/√n
#pragma omp parallel
  {
    std::vector<T> tmp(static_cast<size_t>(n));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < count; ++r) {
      T* a = rows + r * n;
      for (int64_t i = 0; i < k; ++i) fwht(a + i * m, m);
      if (k > 1) {
        // Row i of H_K·A: ± rows of A added in order l = 0, 1, … (the sum order of Σ_l), over
        // contiguous rows so that it vectorizes; the entries are ±1, so add or subtract.
        for (int64_t i = 0; i < k; ++i) {
          T* out = tmp.data() + i * m;
          std::fill(out, out + m, T(0));
          for (int64_t l = 0; l < k; ++l) {
            const T* src = a + l * m;
            if (hk[size_t(i * k + l)] > 0) {
              for (int64_t j = 0; j < m; ++j) out[j] += src[j];
            } else {
              for (int64_t j = 0; j < m; ++j) out[j] -= src[j];
            }
          }
        }
        for (int64_t j = 0; j < n; ++j) a[j] = tmp[size_t(j)] / sq;
      } else {
        for (int64_t j = 0; j < n; ++j) a[j] /= sq;
      }
    }
  }
}

}  // namespace

void hadamard_transform(Context&, TensorView rows, std::span<const int8_t> hk, int k) {
  with_float(rows.dtype(), "hadamard_transform", [&](auto tv) {
    using T = decltype(tv);
    transform(rows.data<T>(), rows.rows(), rows.cols(), hk, k);
  });
}

}  // namespace osp::ops::cpu
