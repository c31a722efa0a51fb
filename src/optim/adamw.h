// AdamW with decoupled weight decay and bias correction, in the arithmetic of PyTorch's
// torch.optim.AdamW (osp-method.md §2.1). State: m and v, fp32.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "ops/context.h"

namespace osp::optim {

struct AdamWHyper {
  double lr = 5e-4;    // already multiplied by the schedule
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double wd = 1e-2;
};

// One step on equally sized f32 views; step is t = 1, 2, ... (bias correction).
void adamw_update(ops::Context& ctx, TensorView w, TensorView g, TensorView m, TensorView v, const AdamWHyper& h,
                  int64_t step);

}  // namespace osp::optim
