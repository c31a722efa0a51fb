// NS5 on the CPU through CBLAS.
#include "optim/newton_schulz.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"

namespace osp::optim {
namespace {

void round_to_bf16(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = round_bf16(x[i]);
}

void sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m),
              int(n), int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

}  // namespace

double newton_schulz_flops(int64_t m, int64_t n, int steps) {
  const double r = double(std::min(m, n)), c = double(std::max(m, n));
  return steps * (4 * r * r * c + 2 * r * r * r);
}

void newton_schulz(float* out, const float* u, int64_t m, int64_t n, int steps, double eps,
                   NsPrecision precision, NsWorkspace& ws, NsCoefficients k) {
  const bool transpose = m > n;  // work on the wide orientation: r rows ≤ c columns
  const int64_t r = transpose ? n : m, c = transpose ? m : n;
  ws.x.resize(size_t(r * c));
  ws.y.resize(size_t(r * c));
  ws.a.resize(size_t(r * r));
  ws.b.resize(size_t(r * r));
  float *x = ws.x.data(), *y = ws.y.data(), *a = ws.a.data(), *b = ws.b.data();
  double norm2 = 0;
  for (int64_t i = 0; i < m * n; ++i) norm2 += double(u[i]) * double(u[i]);
  const float inv = float(1.0 / (std::sqrt(norm2) + eps));
  if (transpose) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) x[j * m + i] = u[i * n + j] * inv;
  } else {
    for (int64_t i = 0; i < m * n; ++i) x[i] = u[i] * inv;
  }
  const bool bf16 = precision == NsPrecision::kBF16;
  if (bf16) round_to_bf16(x, r * c);
  for (int it = 0; it < steps; ++it) {
    // A = X·Xᵀ; B = b·A + c·A·A; X ← a·X + B·X.
    sgemm(false, true, r, r, c, 1.0f, x, c, x, c, 0.0f, a, r);
    if (bf16) round_to_bf16(a, r * r);
    std::memcpy(b, a, sizeof(float) * size_t(r * r));
    sgemm(false, false, r, r, r, k.c, a, r, a, r, k.b, b, r);
    if (bf16) round_to_bf16(b, r * r);
    std::memcpy(y, x, sizeof(float) * size_t(r * c));
    sgemm(false, false, r, c, r, 1.0f, b, r, x, c, k.a, y, c);
    if (bf16) round_to_bf16(y, r * c);
    std::swap(x, y);
  }
  if (transpose) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) out[i * n + j] = x[j * m + i];
  } else {
    std::memcpy(out, x, sizeof(float) * size_t(m * n));
  }
}

}  // namespace osp::optim
