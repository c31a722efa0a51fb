// AdamW: the step's scalars in double, rounded to fp32 as torch does; the update is an op.
#include "optim/adamw.h"

#include <cmath>

#include "ops/optimizer_update.h"

namespace osp::optim {

void adamw_update(ops::Context& ctx, TensorView w, TensorView g, TensorView m, TensorView v, const AdamWHyper& h,
                  int64_t step) {
  const double bc1 = 1.0 - std::pow(h.beta1, double(step));
  const double bc2 = 1.0 - std::pow(h.beta2, double(step));
  const ops::AdamWStep s{.decay = float(1.0 - h.lr * h.wd),  // θ ← θ·(1 − lr·wd), on the old θ
                         .beta1 = float(h.beta1),
                         .beta2 = float(h.beta2),
                         .one_minus_beta1 = float(1.0 - h.beta1),
                         .one_minus_beta2 = float(1.0 - h.beta2),
                         .step_size = float(h.lr / bc1),
                         .bc2_sqrt = float(std::sqrt(bc2)),
                         .eps = float(h.eps)};
  ops::adamw_update(ctx, w, g, m, v, s);
}

}  // namespace osp::optim
