// Learning-rate schedules.
#include "optim/schedule.h"

#include <algorithm>
#include <cmath>

namespace osp::optim {

int64_t Schedule::resolved_warmup() const {
  if (warmup_steps >= 0) return warmup_steps;
  return std::max<int64_t>(1, total_steps / 100);
}

double Schedule::multiplier(int64_t step) const {
  const int64_t warmup = resolved_warmup();
  if (step <= warmup && warmup > 0) return double(step) / double(warmup);
  switch (kind) {
    case ScheduleKind::kConstant:
      return 1.0;
    case ScheduleKind::kCosine: {
      const double span = double(std::max<int64_t>(1, total_steps - warmup));
      const double p = std::clamp(double(step - warmup) / span, 0.0, 1.0);
      return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + std::cos(M_PI * p));
    }
    case ScheduleKind::kWsd: {
      const double decay = std::max(1.0, std::nearbyint(decay_fraction * double(total_steps)));  // half to even (spec §0)
      const double start = double(total_steps) - decay;
      if (double(step) <= start) return 1.0;
      const double p = std::clamp((double(step) - start) / decay, 0.0, 1.0);
      return 1.0 - (1.0 - min_ratio) * p;
    }
  }
  return 1.0;
}

Result<ScheduleKind> parse_schedule_kind(const std::string& name) {
  if (name == "cosine") return ScheduleKind::kCosine;
  if (name == "wsd") return ScheduleKind::kWsd;
  if (name == "constant") return ScheduleKind::kConstant;
  return make_error("schedule must be \"cosine\", \"wsd\" or \"constant\", got \"{}\"", name);
}

std::string schedule_kind_name(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::kCosine: return "cosine";
    case ScheduleKind::kWsd: return "wsd";
    case ScheduleKind::kConstant: return "constant";
  }
  return "?";
}

}  // namespace osp::optim
