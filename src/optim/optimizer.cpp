// The optimizer: state layout, clipping, the step over all tensors, and the start-up table.
#include "optim/optimizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>

#include "dist/comm.h"
#include "ops/elementwise.h"

namespace osp::optim {

namespace {
constexpr int64_t kBucketElems = int64_t(4) << 20;  // 16 MiB of fp32 gradients per reduce-scatter
}  // namespace

Optimizer::Optimizer(ops::Context& ctx, const model::ParamTable& table, const OptimConfig& config)
    : ctx_(ctx), comm_(ctx.comm() != nullptr && ctx.comm()->size() > 1 ? ctx.comm() : nullptr), table_(table),
      cfg_(config), assign_(assign_groups(table, config)), compact_(compact_layout(table, assign_)),
      part_(partition_parameters(table, assign_, comm_ ? comm_->size() : 1, config.muon.ns_steps)) {
  const int r = rank();
  first_ = Tensor(DType::kF32, {part_.count(r)});
  second_ = Tensor(DType::kF32, {part_.second_count(r)});
  if (comm_ != nullptr) grad_shard_ = Tensor(DType::kF32, {part_.count(r)});
  int64_t largest_muon = 0;
  for (size_t i = 0; i < table.params().size(); ++i) {
    const auto& p = table.params()[i];
    const bool owned = p.offset >= part_.begin[size_t(r)] && p.offset < part_.begin[size_t(r) + 1];
    if (assign_[i].optimizer == OptimizerKind::kMuon && owned) largest_muon = std::max(largest_muon, p.numel);
  }
  update_ = Tensor(DType::kF32, {largest_muon});
}

int Optimizer::rank() const { return comm_ != nullptr ? comm_->rank() : 0; }

float* Optimizer::reduce_gradients(float* grads) {
  if (comm_ == nullptr) return grads;
  const int n = comm_->size(), r = comm_->rank();
  const int64_t total = table_.total_elems();
  // Buckets of the flat buffer; in each, every rank receives the part of its range it holds.
  for (int64_t a = 0; a < total; a += kBucketElems) {
    const int64_t z = std::min(total, a + kBucketElems);
    std::vector<int64_t> counts(static_cast<size_t>(n));
    for (int q = 0; q < n; ++q)
      counts[size_t(q)] = std::max<int64_t>(0, std::min(z, part_.begin[size_t(q) + 1]) - std::max(a, part_.begin[size_t(q)]));
    // This bucket's part of our range lands at its offset in the shard (nothing when it is empty).
    const int64_t at = counts[size_t(r)] > 0 ? std::max(a, part_.begin[size_t(r)]) - part_.begin[size_t(r)] : 0;
    float* out = grad_shard_.data<float>() + at;
    comm_->reduce_scatter_sum(TensorView::of(out, {counts[size_t(r)]}), TensorView::of(grads + a, {z - a}), counts);
  }
  return grad_shard_.data<float>();
}

double Optimizer::clip_gradients(float* shard) {
  // sum_squares sums fixed chunks in order and the ranks' partial sums are added by one
  // all-reduce: the norm (and so the clipped step) is bit-reproducible for a given number of
  // ranks and any thread count, which exact resume relies on. Padding between tensors is zero.
  const TensorView g = TensorView::of(shard, {part_.count(rank())});
  double s = ops::sum_squares(ctx_, g);
  if (comm_ != nullptr) comm_->all_reduce_sum(TensorView::of(&s, {1}));
  const double norm = std::sqrt(s);
  if (cfg_.clip > 0 && norm > cfg_.clip) ops::scale(ctx_, g, float(cfg_.clip / (norm + 1e-6)));
  return norm;
}

void Optimizer::step(float* params, const float* shard, double lr_multiplier) {
  ++steps_;
  const int r = rank();
  const int64_t b = part_.begin[size_t(r)], e = part_.begin[size_t(r) + 1], sb = part_.second_begin[size_t(r)];
  const auto& ps = table_.params();
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    const int64_t lo = std::max(p.offset, b), hi = std::min(p.offset + p.numel, e);
    if (lo >= hi) continue;  // another rank's
    const TensorView w = TensorView::of(params + lo, {hi - lo});
    const TensorView g = TensorView::of(shard + (lo - b), {hi - lo});
    const TensorView first = TensorView::of(first_.data<float>() + (lo - b), {hi - lo});
    if (assign_[i].optimizer == OptimizerKind::kAdamW) {
      AdamWHyper h = cfg_.adamw;
      h.lr *= lr_multiplier;
      if (!assign_[i].decay) h.wd = 0;
      const int64_t v_at = compact_.offset[i] + (lo - p.offset) - sb;
      adamw_update(ctx_, w, g, first, TensorView::of(second_.data<float>() + v_at, {hi - lo}), h, steps_);
    } else {
      OSP_CHECK(lo == p.offset && hi == p.offset + p.numel, "Muon tensor {} is split across ranks", p.name);
      MuonHyper h = cfg_.muon;
      h.lr *= lr_multiplier;
      if (!assign_[i].decay) h.wd = 0;
      muon_update(ctx_, w, g, first, p.shape, h, update_.view().prefix({p.numel}), ns_);
    }
  }
  if (comm_ != nullptr)
    comm_->all_gather_v(TensorView::of(params, {table_.total_elems()}), part_.counts(),
                        std::vector<int64_t>(part_.begin.begin(), part_.begin.end() - 1));
}

std::vector<StateTensor> Optimizer::state_views(float* first, float* second) const {
  std::vector<StateTensor> out;
  const auto& ps = table_.params();
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    if (assign_[i].optimizer == OptimizerKind::kAdamW) {
      out.push_back({"adamw.m." + p.name, p.shape, first + p.offset, p.numel});
      out.push_back({"adamw.v." + p.name, p.shape, second + compact_.offset[i], p.numel});
    } else {
      out.push_back({"muon.momentum." + p.name, p.shape, first + p.offset, p.numel});
    }
  }
  return out;
}

StateImage Optimizer::make_image() const {
  return {Tensor(DType::kF32, {table_.total_elems()}), Tensor(DType::kF32, {compact_.total})};
}

std::vector<StateTensor> Optimizer::image_tensors(StateImage& image) const {
  return state_views(image.first.data<float>(), image.second.data<float>());
}

std::vector<StateTensor> Optimizer::gather_state(StateImage& image) {
  if (comm_ == nullptr) return state_views(first_.data<float>(), second_.data<float>());
  if (comm_->rank() == 0 && image.first.view().empty()) image = make_image();
  const std::vector<int64_t> d1(part_.begin.begin(), part_.begin.end() - 1);
  const std::vector<int64_t> d2(part_.second_begin.begin(), part_.second_begin.end() - 1);
  comm_->gather_v(image.first, first_, part_.counts(), d1, 0);
  comm_->gather_v(image.second, second_, part_.second_counts(), d2, 0);
  return comm_->rank() == 0 ? image_tensors(image) : std::vector<StateTensor>{};
}

void Optimizer::scatter_state(StateImage& image) {
  if (comm_ == nullptr) {  // one rank: the image is the state
    std::copy_n(image.first.data<float>(), first_.numel(), first_.data<float>());
    std::copy_n(image.second.data<float>(), second_.numel(), second_.data<float>());
    return;
  }
  const std::vector<int64_t> d1(part_.begin.begin(), part_.begin.end() - 1);
  const std::vector<int64_t> d2(part_.second_begin.begin(), part_.second_begin.end() - 1);
  comm_->scatter_v(first_, image.first, part_.counts(), d1, 0);
  comm_->scatter_v(second_, image.second, part_.second_counts(), d2, 0);
}

int64_t Optimizer::rank_state_bytes(int r) const {
  return (part_.count(r) + part_.second_count(r)) * int64_t(sizeof(float));
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
  if (part_.ranks > 1) {
    s += fmt::format("  sharded over {} ranks (AdamW by elements, Muon matrices whole); state per rank:", part_.ranks);
    for (int r = 0; r < part_.ranks; ++r) s += fmt::format(" {:.1f}", rank_state_bytes(r) / 1048576.0);
    s += " MiB\n";
  }
  return s;
}

}  // namespace osp::optim
