// Balanced contiguous cuts of the parameter buffer (see partition.h).
#include "optim/partition.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "optim/newton_schulz.h"

namespace osp::optim {
namespace {

constexpr int64_t kAlign = 16;               // cuts inside an AdamW tensor fall on 64-byte boundaries
constexpr double kAdamFlopsPerElement = 12;  // decay, two moments, sqrt, division, update
constexpr double kMuonFlopsPerElement = 8;   // momentum, look-ahead, scale, step

int64_t padded(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

double muon_cost(const model::ParamInfo& p, int ns_steps) {
  double c = kMuonFlopsPerElement * double(p.numel);
  if (p.shape.size() == 2) c += newton_schulz_flops(p.shape[0], p.shape[1], ns_steps);
  return c;
}

}  // namespace

std::vector<int64_t> Partition::counts() const {
  std::vector<int64_t> c;
  for (int r = 0; r < ranks; ++r) c.push_back(count(r));
  return c;
}

std::vector<int64_t> Partition::second_counts() const {
  std::vector<int64_t> c;
  for (int r = 0; r < ranks; ++r) c.push_back(second_count(r));
  return c;
}

CompactLayout compact_layout(const model::ParamTable& table, const std::vector<ParamAssignment>& assign) {
  CompactLayout l;
  for (size_t i = 0; i < table.params().size(); ++i) {
    if (assign[i].optimizer == OptimizerKind::kAdamW) {
      l.offset.push_back(l.total);
      l.total += padded(table.params()[i].numel);
    } else {
      l.offset.push_back(-1);
    }
  }
  return l;
}

int64_t CompactLayout::at(const model::ParamTable& table, int64_t x) const {
  int64_t c = 0;
  for (size_t i = 0; i < table.params().size(); ++i) {
    if (offset[i] < 0) continue;
    const auto& p = table.params()[i];
    c += std::clamp<int64_t>(x - p.offset, 0, padded(p.numel));
  }
  return c;
}

Partition partition_parameters(const model::ParamTable& table, const std::vector<ParamAssignment>& assign,
                               int ranks, int ns_steps) {
  OSP_CHECK(ranks >= 1, "partition over {} ranks", ranks);
  const auto& ps = table.params();
  std::vector<double> cost(ps.size());
  double total = 0;
  for (size_t i = 0; i < ps.size(); ++i) {
    cost[i] = assign[i].optimizer == OptimizerKind::kMuon ? muon_cost(ps[i], ns_steps)
                                                          : kAdamFlopsPerElement * double(ps[i].numel);
    total += cost[i];
  }
  Partition part;
  part.ranks = ranks;
  part.begin.assign(size_t(ranks) + 1, table.total_elems());
  part.begin[0] = 0;
  // Walk the tensors in table order; cut r falls where the cumulative cost reaches r/N of the
  // total: inside an AdamW tensor at the proportional element, before or after a Muon tensor,
  // whichever side is nearer.
  int r = 1;
  double done = 0;
  for (size_t i = 0; i < ps.size() && r < ranks; ++i) {
    const auto& p = ps[i];
    const int64_t end = i + 1 < ps.size() ? ps[i + 1].offset : table.total_elems();
    while (r < ranks && done + cost[i] >= total * double(r) / ranks) {
      const double target = total * double(r) / ranks;
      int64_t cut;
      if (assign[i].optimizer == OptimizerKind::kAdamW && p.numel > 0) {
        const double frac = (target - done) / cost[i];
        cut = p.offset + std::min(padded(p.numel), int64_t(std::llround(frac * double(p.numel))) / kAlign * kAlign);
      } else {
        cut = (target - done) < (done + cost[i] - target) ? p.offset : end;
      }
      part.begin[size_t(r)] = std::max(cut, part.begin[size_t(r) - 1]);
      ++r;
    }
    done += cost[i];
  }
  const CompactLayout layout = compact_layout(table, assign);
  for (int q = 0; q <= ranks; ++q) part.second_begin.push_back(layout.at(table, part.begin[size_t(q)]));
  return part;
}

}  // namespace osp::optim
