// The optimizer of a training run: AdamW and Muon over the parameter table's groups, with their
// state (AdamW: m and v; Muon: one momentum buffer), gradient clipping and a step counter.
//
//   Optimizer opt(ctx, table, config);
//   double norm = opt.clip_gradients(grads);    // global L2 norm before clipping
//   opt.step(params, grads, schedule.multiplier(opt.steps_taken() + 1));
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/params.h"
#include "ops/context.h"
#include "optim/param_groups.h"

namespace osp::optim {

// A named view of one optimizer state tensor (checkpoints read and write through these).
struct StateTensor {
  std::string name;            // "adamw.m.<param>", "adamw.v.<param>", "muon.momentum.<param>"
  std::vector<int64_t> shape;
  float* data;
  int64_t numel;
};

class Optimizer {
 public:
  // params and grads (below) are flat buffers laid out by `table`, on the context's device.
  Optimizer(ops::Context& ctx, const model::ParamTable& table, const OptimConfig& config);

  // Scales grads so their global L2 norm is at most config.clip (if > 0); returns the norm before.
  double clip_gradients(float* grads);
  // One step of every tensor's optimizer at learning-rate multiplier s (the schedule's value).
  void step(float* params, const float* grads, double lr_multiplier);

  int64_t steps_taken() const { return steps_; }
  void set_steps_taken(int64_t s) { steps_ = s; }
  std::vector<StateTensor> state_tensors();
  const std::vector<ParamAssignment>& assignment() const { return assign_; }
  int64_t state_bytes(OptimizerKind k) const;
  // The start-up table: every tensor family with its optimizer, lr, wd, shape; state memory.
  std::string describe() const;
  const OptimConfig& config() const { return cfg_; }

 private:
  ops::Context& ctx_;
  const model::ParamTable& table_;
  OptimConfig cfg_;
  std::vector<ParamAssignment> assign_;
  Tensor first_;                        // AdamW m or Muon momentum, at the parameter's offset
  Tensor second_;                       // AdamW v, compact over AdamW tensors
  std::vector<int64_t> second_offset_;  // per parameter; −1 for Muon tensors
  Tensor update_;                       // Muon scratch, the largest Muon tensor
  NsWorkspace ns_;
  int64_t steps_ = 0;
};

}  // namespace osp::optim
