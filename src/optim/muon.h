// Muon exactly as the paper's optimizer code (osp-method.md §2.2): undamped momentum with a
// Nesterov look-ahead, NS5 for 2-D tensors (U/‖U‖ for 0-D/1-D), the 0.2·√max(shape) scale, and
// decoupled weight decay W ← W − lr·(O + wd·W). State: one momentum buffer, fp32.
#pragma once
#include <cstdint>
#include <vector>

#include "optim/newton_schulz.h"

namespace osp::optim {

struct MuonHyper {
  double lr = 5e-4;   // already multiplied by the schedule
  double beta = 0.95;
  int ns_steps = 5;
  double eps = 1e-8;
  double wd = 1e-2;
  NsPrecision ns_precision = NsPrecision::kF32;
};

// One step for a tensor of the given shape ((), (n) or (rows, cols)); w, g, momentum and the
// scratch `update` are contiguous f32 views of its numel.
void muon_update(ops::Context& ctx, TensorView w, TensorView g, TensorView momentum, const std::vector<int64_t>& shape,
                 const MuonHyper& h, TensorView update, NsWorkspace& ws);

}  // namespace osp::optim
