// CPU optimizer updates, elementwise; AdamW's order of operations follows torch.optim.AdamW's
// single-tensor path.
#include <cmath>

#include "ops/cpu/backend.h"

namespace osp::ops::cpu {

void adamw_update(Context&, TensorView wv, TensorView gv, TensorView mv, TensorView vv, const AdamWStep& s) {
  float *w = wv.data<float>(), *m = mv.data<float>(), *v = vv.data<float>();
  const float* g = gv.data<float>();
  const int64_t n = wv.numel();
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    w[i] *= s.decay;
    m[i] = m[i] * s.beta1 + g[i] * s.one_minus_beta1;
    v[i] = v[i] * s.beta2 + g[i] * g[i] * s.one_minus_beta2;
    const float denom = std::sqrt(v[i]) / s.bc2_sqrt + s.eps;
    w[i] -= s.step_size * (m[i] / denom);
  }
}

void nesterov_momentum(Context&, TensorView uv, TensorView mv, TensorView gv, float beta) {
  float *u = uv.data<float>(), *m = mv.data<float>();
  const float* g = gv.data<float>();
  const int64_t n = uv.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    m[i] = g[i] + beta * m[i];
    u[i] = g[i] + beta * m[i];
  }
}

void muon_apply(Context&, TensorView wv, TensorView ov, float lr, float scale, float wd) {
  float* w = wv.data<float>();
  const float* o = ov.data<float>();
  const int64_t n = wv.numel();
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) w[i] -= lr * (scale * o[i] + wd * w[i]);
}

}  // namespace osp::ops::cpu
