// Muon: momentum, orthogonalisation by rank, RMS-matching scale, decay and step.
#include "optim/muon.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "ops/elementwise.h"
#include "ops/optimizer_update.h"

namespace osp::optim {

void muon_update(ops::Context& ctx, TensorView w, TensorView g, TensorView momentum, const std::vector<int64_t>& shape,
                 const MuonHyper& h, TensorView update, NsWorkspace& ws) {
  OSP_CHECK(shape.size() <= 2, "Muon takes 0-D, 1-D or 2-D tensors, got {}-D", shape.size());
  int64_t largest = 1;
  for (int64_t s : shape) largest = std::max(largest, s);
  // M ← G + β·M (no 1−β factor); U ← G + β·M with the updated M (Nesterov look-ahead).
  ops::nesterov_momentum(ctx, update, momentum, g, float(h.beta));
  if (shape.size() == 2) {
    const TensorView u = update.reshaped({shape[0], shape[1]});
    newton_schulz(ctx, u, u, h.ns_steps, h.eps, h.ns_precision, ws);
  } else {  // 0-D / 1-D: O = U / (‖U‖₂ + eps), no Newton–Schulz (spec §2.2 step 2)
    ops::scale(ctx, update, float(1.0 / (std::sqrt(ops::sum_squares(ctx, update)) + h.eps)));
  }
  // W ← W − lr·(0.2·√max(shape)·O + wd·W).
  ops::muon_apply(ctx, w, update, float(h.lr), float(0.2 * std::sqrt(double(largest))), float(h.wd));
}

}  // namespace osp::optim
