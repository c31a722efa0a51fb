// Muon: momentum, orthogonalisation by rank, RMS-matching scale, decay and step.
#include "optim/muon.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace osp::optim {

void muon_update(float* w, const float* g, float* momentum, const std::vector<int64_t>& shape,
                 const MuonHyper& h, float* update, NsWorkspace& ws) {
  OSP_CHECK(shape.size() <= 2, "Muon takes 0-D, 1-D or 2-D tensors, got {}-D", shape.size());
  int64_t n = 1, largest = 1;
  for (int64_t s : shape) n *= s, largest = std::max(largest, s);
  const float beta = float(h.beta);
  // M ← G + β·M (no 1−β factor); U ← G + β·M with the updated M (Nesterov look-ahead).
  for (int64_t i = 0; i < n; ++i) {
    momentum[i] = g[i] + beta * momentum[i];
    update[i] = g[i] + beta * momentum[i];
  }
  if (shape.size() == 2) {
    newton_schulz(update, update, shape[0], shape[1], h.ns_steps, h.eps, h.ns_precision, ws);
  } else {  // 0-D / 1-D: O = U / (‖U‖₂ + eps), no Newton–Schulz (spec §2.2 step 2)
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += double(update[i]) * update[i];
    const float inv = float(1.0 / (std::sqrt(s) + h.eps));
    for (int64_t i = 0; i < n; ++i) update[i] *= inv;
  }
  // W ← W − lr·(0.2·√max(shape)·O + wd·W).
  const float scale = float(0.2 * std::sqrt(double(largest)));
  const float lr = float(h.lr), wd = float(h.wd);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) w[i] -= lr * (scale * update[i] + wd * w[i]);
}

}  // namespace osp::optim
