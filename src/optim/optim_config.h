// The [optim] settings as JSON (TOML configs are converted to JSON before reading):
//   groups, clip, decay_norms, adamw {lr, beta1, beta2, eps, wd},
//   muon {lr, beta, ns_steps, eps, wd, ns_dtype}, schedule {kind, total_steps, warmup_steps,
//   min_ratio, decay_fraction}. Unknown keys and out-of-range values are refused by name.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include "core/result.h"
#include "optim/param_groups.h"

namespace osp::optim {

// Starts from `defaults` and applies the keys present in j.
Result<OptimConfig> optim_config_from_json(const nlohmann::json& j, OptimConfig defaults = {});
nlohmann::json optim_config_to_json(const OptimConfig& c);

}  // namespace osp::optim
