// Hadamard transforms (measurement.md §3.8).
#include "quant/hadamard.h"

#include "ops/hadamard.h"

#include <algorithm>
#include <cmath>

namespace osp::quant {

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

void Hadamard::apply(ops::Context& ctx, TensorView rows) const {
  OSP_CHECK(rows.cols() == n_, "Hadamard of size {} applied to rows of {}", n_, rows.cols());
  ops::hadamard_transform(ctx, rows, hk_, k_);
}

std::vector<double> Hadamard::dense(ops::Context& ctx) const {
  // M is not symmetric for K > 1 (H_K need not be), so build M·e_j as column j.
  std::vector<double> cols(size_t(n_ * n_), 0.0);
  for (int64_t j = 0; j < n_; ++j) cols[size_t(j * n_ + j)] = 1.0;
  apply(ctx, TensorView::of(cols.data(), {n_, n_}));  // row j now holds M·e_j = column j of M
  std::vector<double> m(size_t(n_ * n_));
  for (int64_t i = 0; i < n_; ++i)
    for (int64_t j = 0; j < n_; ++j) m[size_t(i * n_ + j)] = cols[size_t(j * n_ + i)];
  return m;
}

}  // namespace osp::quant
