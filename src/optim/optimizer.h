// The optimizer of a training run: AdamW and Muon over the parameter table's groups, with their
// state (AdamW: m and v; Muon: one momentum buffer), gradient clipping and a step counter. In a
// data-parallel run (the context carries a Comm of N > 1 ranks) each rank owns one range of the
// parameters (optim/partition.h): it keeps only that range's state, gets only that range's summed
// gradients, updates it, and the ranks all-gather the parameters.
//
//   Optimizer opt(ctx, table, config);
//   float* shard = opt.reduce_gradients(grads);  // grads itself with one rank
//   double norm = opt.clip_gradients(shard);     // global L2 norm before clipping
//   opt.step(params, shard, schedule.multiplier(opt.steps_taken() + 1));
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/params.h"
#include "ops/context.h"
#include "optim/param_groups.h"
#include "optim/partition.h"

namespace osp::optim {

// A named view of one optimizer state tensor (checkpoints read and write through these).
struct StateTensor {
  std::string name;            // "adamw.m.<param>", "adamw.v.<param>", "muon.momentum.<param>"
  std::vector<int64_t> shape;
  float* data;
  int64_t numel;
};

// The whole optimizer state in the single-process layout, whatever the number of ranks: what a
// checkpoint holds. first: m or momentum at each parameter's offset; second: v, compact.
struct StateImage {
  Tensor first, second;
};

class Optimizer {
 public:
  // params and grads (below) are flat buffers laid out by `table`, on the context's device.
  Optimizer(ops::Context& ctx, const model::ParamTable& table, const OptimConfig& config);

  // Sums the ranks' gradients of this rank's range into its shard (reduce-scatter in buckets)
  // and returns the shard, indexed from partition().begin[rank]; one rank: grads itself.
  float* reduce_gradients(float* grads);
  // Scales the shard so that the global L2 norm is at most config.clip (if > 0); returns the
  // global norm before (bit-reproducible for a given number of ranks).
  double clip_gradients(float* shard);
  // One step of every owned tensor's optimizer at learning-rate multiplier s (the schedule's
  // value), then the parameters are all-gathered.
  void step(float* params, const float* shard, double lr_multiplier);

  int64_t steps_taken() const { return steps_; }
  void set_steps_taken(int64_t s) { steps_ = s; }
  // The state in the single-process layout: this rank's own buffers with one rank (no copy);
  // otherwise gathered onto rank 0 (other ranks get empty views). Every rank must call it.
  std::vector<StateTensor> gather_state(StateImage& image);
  // Views of a full image for loading; then scatter_state hands each rank its range.
  std::vector<StateTensor> image_tensors(StateImage& image) const;
  void scatter_state(StateImage& image);
  StateImage make_image() const;

  const std::vector<ParamAssignment>& assignment() const { return assign_; }
  const Partition& partition() const { return part_; }
  int64_t state_bytes(OptimizerKind k) const;  // of the whole model (all ranks)
  int64_t rank_state_bytes(int rank) const;    // of one rank's range
  // The start-up table: every tensor family with its optimizer, lr, wd, shape; state memory.
  std::string describe() const;
  const OptimConfig& config() const { return cfg_; }

 private:
  // Views of whole-layout buffers (first at parameter offsets, second compact).
  std::vector<StateTensor> state_views(float* first, float* second) const;
  int rank() const;

  ops::Context& ctx_;
  dist::Comm* comm_;  // null or one rank: no communication
  const model::ParamTable& table_;
  OptimConfig cfg_;
  std::vector<ParamAssignment> assign_;
  CompactLayout compact_;
  Partition part_;
  Tensor first_;   // AdamW m or Muon momentum of the owned range, indexed from begin[rank]
  Tensor second_;  // AdamW v of the owned range, compact, indexed from second_begin[rank]
  Tensor grad_shard_;  // the owned range's summed gradients (more than one rank)
  Tensor update_;      // Muon scratch, the largest owned Muon tensor
  NsWorkspace ns_;
  int64_t steps_ = 0;
};

}  // namespace osp::optim
