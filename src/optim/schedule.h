// Learning-rate schedules (osp-method.md §2.4): one multiplier s(t) ∈ [0, 1] scales the base rates
// of both optimizers. t = 1..total is the optimizer step about to be taken.
#pragma once
#include <cstdint>
#include <string>

#include "core/result.h"

namespace osp::optim {

enum class ScheduleKind {
  kCosine,    // linear warmup, then cosine from 1 down to min_ratio at the last step
  kWsd,       // linear warmup, stable at 1, then linear decay to min_ratio over decay_fraction
  kConstant,  // linear warmup, then 1
};

struct Schedule {
  ScheduleKind kind = ScheduleKind::kCosine;
  int64_t total_steps = 0;     // 0: filled in from the run's step count
  int64_t warmup_steps = -1;   // −1: 1% of total_steps, at least 1 (spec §2.5)
  double min_ratio = 0.1;      // final rate as a fraction of the base rate
  double decay_fraction = 0.2; // WSD: share of the steps spent decaying

  double multiplier(int64_t step) const;
  int64_t resolved_warmup() const;
};

Result<ScheduleKind> parse_schedule_kind(const std::string& name);
std::string schedule_kind_name(ScheduleKind k);

}  // namespace osp::optim
