// The weight quantizer (measurement.md §3.4). fp32 arithmetic as the spec's osp column says; the
// clip-search error is accumulated in fp64 (the reference sums f32) so that the choice between
// candidates does not depend on the summation order.
#include "quant/quantizer.h"

#include <algorithm>
#include <cmath>

namespace osp::quant {

namespace {
inline float q_sym(float w, float s, float lo, float hi) {
  return s * std::clamp(std::nearbyint(w / s), lo, hi);  // division, not × 1/s (§3.4)
}
}  // namespace

float weight_scale(const float* w, int64_t n, int bits) {
  const float maxq = float((1 << (bits - 1)) - 1), lo = -(maxq + 1);
  float mn = 0, mx = 0;
  for (int64_t j = 0; j < n; ++j) mn = std::min(mn, w[j]), mx = std::max(mx, w[j]);
  const float m = std::max(std::max(std::abs(mn), mx), 1e-5f);
  double best = INFINITY;
  float scale = m / maxq;
  for (int i = 0; i < 80; ++i) {  // grid 100, max shrink 0.8: p = 1.00 … 0.21
    const float p = float(1.0 - double(i) / 100.0);
    const float s = (p * m) / maxq;
    // The terms are non-negative, so a candidate is out once its partial sum reaches the best:
    // stopping there changes no decision and skips most of the pow calls, the search's cost.
    double err = 0;
    for (int64_t j0 = 0; j0 < n && err < best; j0 += 64)
      for (int64_t j = j0; j < std::min(n, j0 + 64); ++j)
        err += std::pow(double(std::abs(q_sym(w[j], s, lo, maxq) - w[j])), 2.4);
    if (err < best) best = err, scale = s;  // strict: ties keep the larger p
  }
  return scale;
}

void quantize_row_sym(float* out, const float* w, int64_t n, float scale, int bits) {
  const float maxq = float((1 << (bits - 1)) - 1);
  for (int64_t j = 0; j < n; ++j) out[j] = q_sym(w[j], scale, -(maxq + 1), maxq);
}

void rtn_quantize_weight(float* w, int64_t rows, int64_t cols, int bits) {
  if (bits >= 16) return;
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t r = 0; r < rows; ++r) {
    float* row = w + r * cols;
    quantize_row_sym(row, row, cols, weight_scale(row, cols, bits), bits);
  }
}

}  // namespace osp::quant
