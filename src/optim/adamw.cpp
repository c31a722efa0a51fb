// AdamW, elementwise; the order of operations follows torch.optim.AdamW's single-tensor path.
#include "optim/adamw.h"

#include <cmath>

namespace osp::optim {

void adamw_update(float* w, const float* g, float* m, float* v, int64_t n, const AdamWHyper& h,
                  int64_t step) {
  const float decay = float(1.0 - h.lr * h.wd);  // θ ← θ·(1 − lr·wd), on the old θ
  const float b1 = float(h.beta1), b2 = float(h.beta2);
  const float one_minus_b1 = float(1.0 - h.beta1), one_minus_b2 = float(1.0 - h.beta2);
  const double bc1 = 1.0 - std::pow(h.beta1, double(step));
  const double bc2 = 1.0 - std::pow(h.beta2, double(step));
  const float step_size = float(h.lr / bc1);
  const float bc2_sqrt = float(std::sqrt(bc2));
  const float eps = float(h.eps);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    w[i] *= decay;
    m[i] = m[i] * b1 + g[i] * one_minus_b1;
    v[i] = v[i] * b2 + g[i] * g[i] * one_minus_b2;
    const float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
    w[i] -= step_size * (m[i] / denom);
  }
}

}  // namespace osp::optim
