// How a data-parallel run splits the optimizer across ranks: rank r owns the contiguous element
// range [begin[r], begin[r+1]) of the flat parameter buffer (and the matching range of the AdamW
// second-moment buffer). It reduce-scatters the gradients of that range, keeps the optimizer
// state of that range only, updates it, and all-gathers the parameters. AdamW tensors may be cut
// anywhere (ZeRO-1: their state is elementwise); a Muon matrix is never cut — its owner runs the
// momentum and Newton–Schulz for all of it (the scheme of modded-nanogpt, nanochat and
// torchtitan's DistMuon). The cuts balance the update's cost: Newton–Schulz FLOPs for Muon
// tensors, a few FLOPs per element for AdamW. One rank owns everything.
#pragma once
#include <cstdint>
#include <vector>

#include "model/params.h"
#include "optim/param_groups.h"

namespace osp::optim {

struct Partition {
  int ranks = 1;
  std::vector<int64_t> begin;         // ranks + 1 offsets into the flat buffer; begin[ranks] = total
  std::vector<int64_t> second_begin;  // ranks + 1 offsets into the AdamW compact buffer
  int64_t count(int r) const { return begin[size_t(r) + 1] - begin[size_t(r)]; }
  int64_t second_count(int r) const { return second_begin[size_t(r) + 1] - second_begin[size_t(r)]; }
  std::vector<int64_t> counts() const;
  std::vector<int64_t> second_counts() const;
};

// The compact (AdamW-only) offset of every parameter, −1 for Muon tensors, and the compact size.
struct CompactLayout {
  std::vector<int64_t> offset;
  int64_t total = 0;
  // The compact position of flat element x: AdamW elements (and padding) before x.
  int64_t at(const model::ParamTable& table, int64_t x) const;
};
CompactLayout compact_layout(const model::ParamTable& table, const std::vector<ParamAssignment>& assign);

Partition partition_parameters(const model::ParamTable& table, const std::vector<ParamAssignment>& assign,
                               int ranks, int ns_steps);

}  // namespace osp::optim
