// GPTQ (measurement.md §3.11). The factorisations run in f64 through LAPACK (OpenBLAS ships the
// Fortran symbols); the column sweep runs on an f32 working copy as the spec says.
#include "quant/gptq.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ops/gemm.h"
#include "quant/quantizer.h"

extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info);
}

namespace osp::quant {

bool inverse_cholesky_upper(std::vector<double>& h, int64_t n) {
  const int ni = int(n);
  int info = 0;
  // h is symmetric, so its row-major and column-major readings agree.
  dpotrf_("L", &ni, h.data(), &ni, &info);
  if (info != 0) return false;
  dpotri_("L", &ni, h.data(), &ni, &info);  // H⁻¹ in the (column-major) lower triangle
  if (info != 0) return false;
  for (int64_t j = 0; j < n; ++j)  // column-major (i, j), i ≥ j, sits at h[j·n + i]; mirror it
    for (int64_t i = j + 1; i < n; ++i) h[size_t(i * n + j)] = h[size_t(j * n + i)];
  dpotrf_("U", &ni, h.data(), &ni, &info);  // H⁻¹ = Uᵀ·U; U(i, j), i ≤ j, at h[j·n + i]
  if (info != 0) return false;
  std::vector<double> u(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) u[size_t(i * n + j)] = h[size_t(j * n + i)];
  h.swap(u);
  return true;
}

Status gptq_quantize(ops::Context& ctx, float* w, int64_t rows, int64_t cols, std::vector<float> hessian,
                     const GptqOptions& opt, const std::string& name,
                     std::vector<std::string>* warnings) {
  if (opt.bits >= 16) return {};
  // Per-row scales from the clip search on the ORIGINAL weight, computed once.
  std::vector<float> scale(static_cast<size_t>(rows));
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t r = 0; r < rows; ++r) scale[size_t(r)] = weight_scale(w + r * cols, cols, opt.bits);
  // Dead columns: H_jj = 0 → H_jj = 1 and W[:, j] = 0.
  double diag_mean = 0;
  for (int64_t j = 0; j < cols; ++j) {
    float& hjj = hessian[size_t(j * cols + j)];
    if (hjj == 0) {
      hjj = 1;
      for (int64_t r = 0; r < rows; ++r) w[r * cols + j] = 0;
    }
    diag_mean += hjj;
  }
  diag_mean /= double(cols);
  std::vector<double> u;
  double damp = opt.damp;
  for (int attempt = 0;; ++attempt) {
    u.assign(hessian.begin(), hessian.end());
    for (int64_t j = 0; j < cols; ++j) u[size_t(j * cols + j)] += damp * diag_mean;
    if (inverse_cholesky_upper(u, cols)) break;
    if (attempt == 3) return make_error("GPTQ: the Hessian of {} is not positive definite", name);
    damp *= 10;
    if (warnings) warnings->push_back(fmt::format("GPTQ: Cholesky failed for {}; damping {}", name, damp));
  }
  std::vector<float> uf(u.begin(), u.end());  // f32 working copy
  const float maxq = float((1 << (opt.bits - 1)) - 1);
  std::vector<float> err(size_t(rows * opt.block));
  for (int64_t i1 = 0; i1 < cols; i1 += opt.block) {
    const int64_t i2 = std::min(i1 + opt.block, cols), nb = i2 - i1;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      float* wr = w + r * cols;
      const float s = scale[size_t(r)];
      for (int64_t i = i1; i < i2; ++i) {
        const float q = s * std::clamp(std::nearbyint(wr[i] / s), -(maxq + 1), maxq);
        const float e = (wr[i] - q) / uf[size_t(i * cols + i)];
        wr[i] = q;  // Out[:, i]; later columns of the block still get updated below
        for (int64_t j = i + 1; j < i2; ++j) wr[j] -= e * uf[size_t(i * cols + j)];
        err[size_t(r * opt.block + (i - i1))] = e;
      }
    }
    // W[:, i2:] −= Err[:, i1:i2] · U[i1:i2, i2:]
    if (i2 < cols)
      ops::gemm(ctx, TensorView::of(w, {rows, cols}).col_block(i2, cols - i2),
                TensorView::of(err.data(), {rows, opt.block}).col_block(0, nb),
                TensorView::of(uf.data(), {cols, cols}).row_block(i1, nb).col_block(i2, cols - i2),
                {.trans_a = false, .trans_b = false, .alpha = -1.0, .beta = 1.0});
  }
  return {};
}

}  // namespace osp::quant
