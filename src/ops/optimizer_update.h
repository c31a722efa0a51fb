// The elementwise parts of the optimizers, as ops so every backend runs them where the state lives
// (osp-method.md §2.1, §2.2). The scalars are computed by optim/ from the hyper-parameters.
#pragma once
#include "ops/context.h"

namespace osp::ops {

// AdamW in torch.optim.AdamW's single-tensor arithmetic (fp32):
//   w ← w·decay;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//   w ← w − step_size · m / (sqrt(v)/bc2_sqrt + eps)
struct AdamWStep {
  float decay, beta1, beta2, one_minus_beta1, one_minus_beta2, step_size, bc2_sqrt, eps;
};
void adamw_update(Context& ctx, TensorView w, TensorView g, TensorView m, TensorView v, const AdamWStep& s);

// Muon's undamped momentum with the Nesterov look-ahead: M ← G + β·M, then U ← G + β·M.
void nesterov_momentum(Context& ctx, TensorView update, TensorView momentum, TensorView g, float beta);

// Muon's step: W ← W − lr·(scale·O + wd·W).
void muon_apply(Context& ctx, TensorView w, TensorView o, float lr, float scale, float wd);

}  // namespace osp::ops
