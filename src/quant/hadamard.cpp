// Hadamard transforms (measurement.md §3.8).
#include "quant/hadamard.h"

#include <algorithm>
#include <cmath>

namespace osp::quant {

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
template void fwht<float>(float*, int64_t);
template void fwht<double>(double*, int64_t);

namespace {
bool power_of_two(int64_t v) { return v >= 1 && (v & (v - 1)) == 0; }
}  // namespace

Result<int> hadamard_base_size(int64_t n) {
  static const int kList[] = {172, 156, 140, 108, 60, 52, 36, 28, 44, 40, 20, 12};
  if (n < 1) return make_error("Hadamard size must be positive, got {}", n);
  for (int k : kList)
    if (n % k == 0 && power_of_two(n / k)) return k;
  if (power_of_two(n)) return 1;
  return make_error("Hadamard size {} is neither a power of two nor K·2^m with K in the spec's list "
                    "(172, 156, 140, 108, 60, 52, 36, 28, 44, 40, 20, 12)", n);
}

Result<Hadamard> Hadamard::create(int64_t n) {
  auto k = hadamard_base_size(n);
  if (!k) return k.error();
  auto hk = hadamard_base(*k);
  if (!hk) return make_error("Hadamard size {}: {}", n, hk.error().message);
  Hadamard h;
  h.n_ = n;
  h.k_ = *k;
  h.hk_ = std::move(*hk);
  return h;
}

// a (as A: K × n/K, row-major) ← H_K · (A · H_{n/K}) / √n.
template <class T>
void Hadamard::apply(T* rows, int64_t count) const {
  const int64_t m = n_ / k_;
  const T sq = std::sqrt(T(n_));  // divided by √n (§3.8), not multiplied by 1/√n
#pragma omp parallel
  {
    std::vector<T> tmp(static_cast<size_t>(n_));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < count; ++r) {
      T* a = rows + r * n_;
      for (int64_t i = 0; i < k_; ++i) fwht(a + i * m, m);
      if (k_ > 1) {
        // Row i of H_K·A: ± rows of A added in order l = 0, 1, … (the sum order of Σ_l), over
        // contiguous rows so that it vectorizes; the entries are ±1, so add or subtract.
        for (int64_t i = 0; i < k_; ++i) {
          T* out = tmp.data() + i * m;
          std::fill(out, out + m, T(0));
          for (int64_t l = 0; l < k_; ++l) {
            const T* src = a + l * m;
            if (hk_[size_t(i * k_ + l)] > 0) {
              for (int64_t j = 0; j < m; ++j) out[j] += src[j];
            } else {
              for (int64_t j = 0; j < m; ++j) out[j] -= src[j];
            }
          }
        }
        for (int64_t j = 0; j < n_; ++j) a[j] = tmp[size_t(j)] / sq;
      } else {
        for (int64_t j = 0; j < n_; ++j) a[j] /= sq;
      }
    }
  }
}
template void Hadamard::apply<float>(float*, int64_t) const;
template void Hadamard::apply<double>(double*, int64_t) const;

std::vector<double> Hadamard::dense() const {
  // M is not symmetric for K > 1 (H_K need not be), so build M·e_j as column j.
  std::vector<double> cols(size_t(n_ * n_), 0.0);
  for (int64_t j = 0; j < n_; ++j) cols[size_t(j * n_ + j)] = 1.0;
  apply(cols.data(), n_);  // row j now holds M·e_j = column j of M
  std::vector<double> m(size_t(n_ * n_));
  for (int64_t i = 0; i < n_; ++i)
    for (int64_t j = 0; j < n_; ++j) m[size_t(i * n_ + j)] = cols[size_t(j * n_ + i)];
  return m;
}

}  // namespace osp::quant
