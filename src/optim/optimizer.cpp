// The optimizer: state layout, clipping, the step over all tensors, and the start-up table.
#include "optim/optimizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>

#include "ops/elementwise.h"

namespace osp::optim {

Optimizer::Optimizer(ops::Context& ctx, const model::ParamTable& table, const OptimConfig& config)
    : ctx_(ctx), table_(table), cfg_(config), assign_(assign_groups(table, config)),
      first_(DType::kF32, {table.total_elems()}) {
  int64_t second = 0, largest_muon = 0;
  for (size_t i = 0; i < table.params().size(); ++i) {
    const auto& p = table.params()[i];
    if (assign_[i].optimizer == OptimizerKind::kAdamW) {
      second_offset_.push_back(second);
      second += (p.numel + 15) / 16 * 16;
    } else {
      second_offset_.push_back(-1);
      largest_muon = std::max(largest_muon, p.numel);
    }
  }
  second_ = Tensor(DType::kF32, {second});
  update_ = Tensor(DType::kF32, {largest_muon});
}

double Optimizer::clip_gradients(float* grads) {
  // sum_squares sums fixed chunks in order: the norm (and so the clipped step) is bit-reproducible
  // for any thread count, which exact resume relies on. Padding between tensors is zero.
  const TensorView g = TensorView::of(grads, {table_.total_elems()});
  const double norm = std::sqrt(ops::sum_squares(ctx_, g));
  if (cfg_.clip > 0 && norm > cfg_.clip) ops::scale(ctx_, g, float(cfg_.clip / (norm + 1e-6)));
  return norm;
}

void Optimizer::step(float* params, const float* grads, double lr_multiplier) {
  ++steps_;
  const auto& ps = table_.params();
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    const TensorView w = TensorView::of(params + p.offset, {p.numel});
    const TensorView g = TensorView::of(grads + p.offset, {p.numel});
    const TensorView first = TensorView::of(first_.data<float>() + p.offset, {p.numel});
    if (assign_[i].optimizer == OptimizerKind::kAdamW) {
      AdamWHyper h = cfg_.adamw;
      h.lr *= lr_multiplier;
      if (!assign_[i].decay) h.wd = 0;
      const TensorView second = TensorView::of(second_.data<float>() + second_offset_[i], {p.numel});
      adamw_update(ctx_, w, g, first, second, h, steps_);
    } else {
      MuonHyper h = cfg_.muon;
      h.lr *= lr_multiplier;
      if (!assign_[i].decay) h.wd = 0;
      muon_update(ctx_, w, g, first, p.shape, h, update_.view().prefix({p.numel}), ns_);
    }
  }
}

std::vector<StateTensor> Optimizer::state_tensors() {
  std::vector<StateTensor> out;
  const auto& ps = table_.params();
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    if (assign_[i].optimizer == OptimizerKind::kAdamW) {
      out.push_back({"adamw.m." + p.name, p.shape, first_.data<float>() + p.offset, p.numel});
      out.push_back({"adamw.v." + p.name, p.shape, second_.data<float>() + second_offset_[i], p.numel});
    } else {
      out.push_back({"muon.momentum." + p.name, p.shape, first_.data<float>() + p.offset, p.numel});
    }
  }
  return out;
}

int64_t Optimizer::state_bytes(OptimizerKind k) const {
  int64_t n = 0;
  for (size_t i = 0; i < assign_.size(); ++i)
    if (assign_[i].optimizer == k)
      n += table_.params()[i].numel * (k == OptimizerKind::kAdamW ? 2 : 1);
  return n * int64_t(sizeof(float));
}

std::string Optimizer::describe() const {
  // One row per tensor family: the layer index becomes '*'.
  struct Row {
    std::string opt, shape;
    double lr, wd;
    int count = 0;
  };
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
  static const std::regex layer_re(R"(layers\.\d+\.)");
  for (size_t i = 0; i < assign_.size(); ++i) {
    const auto& p = table_.params()[i];
    const std::string family = std::regex_replace(p.name, layer_re, "layers.*.");
    const bool adam = assign_[i].optimizer == OptimizerKind::kAdamW;
    const double wd = assign_[i].decay ? (adam ? cfg_.adamw.wd : cfg_.muon.wd) : 0.0;
    auto [it, inserted] = rows.try_emplace(family, Row{optimizer_name(assign_[i].optimizer),
                                                       fmt::format("({})", fmt::join(p.shape, ", ")),
                                                       adam ? cfg_.adamw.lr : cfg_.muon.lr, wd});
    if (inserted) order.push_back(family);
    ++it->second.count;
  }
  std::string s = fmt::format("optimizer groups: {}\n  {:<52} {:>5} {:>6} {:>9} {:>8}  {}\n",
                              groups_name(cfg_.groups), "tensor", "count", "optim", "lr", "wd", "shape");
  for (const auto& f : order) {
    const Row& r = rows.at(f);
    s += fmt::format("  {:<52} {:>5} {:>6} {:>9.3g} {:>8.3g}  {}\n", f, r.count, r.opt, r.lr, r.wd, r.shape);
  }
  s += fmt::format("  optimizer state: AdamW {:.1f} MiB (m, v), Muon {:.1f} MiB (momentum)\n",
                   state_bytes(OptimizerKind::kAdamW) / 1048576.0, state_bytes(OptimizerKind::kMuon) / 1048576.0);
  return s;
}

}  // namespace osp::optim
