// Parameter group assignment.
#include "optim/param_groups.h"

namespace osp::optim {

std::vector<ParamAssignment> assign_groups(const model::ParamTable& table, const OptimConfig& c) {
  using model::ParamRole;
  std::vector<ParamAssignment> out;
  for (const auto& p : table.params()) {
    OptimizerKind k = OptimizerKind::kAdamW;
    switch (c.groups) {
      case GroupsKind::kAdam:
        break;
      case GroupsKind::kMuon: {
        const bool outside = p.role == ParamRole::kEmbedding || p.role == ParamRole::kHead ||
                             p.role == ParamRole::kNormGain;
        if (!outside) k = OptimizerKind::kMuon;
        break;
      }
      case GroupsKind::kMuonOnly:
        k = OptimizerKind::kMuon;
        break;
    }
    out.push_back({k, p.shape.size() >= 2 || c.decay_norms});
  }
  return out;
}

Result<GroupsKind> parse_groups(const std::string& name) {
  if (name == "adam") return GroupsKind::kAdam;
  if (name == "muon") return GroupsKind::kMuon;
  if (name == "muon-only") return GroupsKind::kMuonOnly;
  return make_error("optim.groups must be \"adam\", \"muon\" or \"muon-only\", got \"{}\"", name);
}

std::string groups_name(GroupsKind g) {
  switch (g) {
    case GroupsKind::kAdam: return "adam";
    case GroupsKind::kMuon: return "muon";
    case GroupsKind::kMuonOnly: return "muon-only";
  }
  return "?";
}

std::string optimizer_name(OptimizerKind k) { return k == OptimizerKind::kAdamW ? "AdamW" : "Muon"; }

}  // namespace osp::optim
