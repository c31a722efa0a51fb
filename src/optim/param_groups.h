// Parameter groups (osp-method.md §2.3): one setting, optim.groups, assigns every tensor of the
// parameter table to AdamW or Muon, with that optimizer's learning rate and weight decay.
#pragma once
#include <string>
#include <vector>

#include "core/result.h"
#include "model/params.h"
#include "optim/adamw.h"
#include "optim/muon.h"
#include "optim/schedule.h"

namespace osp::optim {

enum class GroupsKind {
  kAdam,      // AdamW for everything
  kMuon,      // Muon for block matrices and R1/R2; AdamW for embedding, head, norm gains (= OSP)
  kMuonOnly,  // Muon for everything (the paper's Muon† row)
};
enum class OptimizerKind { kAdamW, kMuon };

struct OptimConfig {
  GroupsKind groups = GroupsKind::kAdam;
  AdamWHyper adamw;
  MuonHyper muon;
  bool decay_norms = false;  // weight decay on 0-D/1-D tensors (spec §2.3 decision)
  double clip = 1.0;         // max global gradient norm; 0 disables
  Schedule schedule;         // total_steps 0: the run's step count
};

struct ParamAssignment {
  OptimizerKind optimizer;
  bool decay;  // whether the group's weight decay applies
};

// One entry per table.params(), in the same order.
std::vector<ParamAssignment> assign_groups(const model::ParamTable& table, const OptimConfig& c);

Result<GroupsKind> parse_groups(const std::string& name);
std::string groups_name(GroupsKind g);
std::string optimizer_name(OptimizerKind k);

}  // namespace osp::optim
