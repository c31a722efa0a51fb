// Optimizer tests that need no reference: NS5 against the polar factor, schedules, groups,
// state layout, clipping. The step-by-step comparison with PyTorch is test_reference_optim.py.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/rng.h"
#include "optim/optim_config.h"
#include "optim/optimizer.h"
#include "optim/partition.h"

namespace osp::optim {
namespace {

// NS5 of a host (m, n) matrix.
void ns5(std::vector<float>& out, const std::vector<float>& u, int64_t m, int64_t n, NsPrecision p, NsWorkspace& ws) {
  ops::Context ctx = ops::Context::cpu();
  newton_schulz(ctx, TensorView::of(out.data(), {m, n}), TensorView::of(u.data(), {m, n}), 5, 1e-8, p, ws);
}

std::vector<float> random_matrix(Rng& rng, int64_t m, int64_t n) {
  std::vector<float> a(size_t(m * n));
  for (auto& x : a) x = float(rng.normal());
  return a;
}

// The polar factor U·Vᵀ of a (rows ≤ cols), by the convergent cubic Newton–Schulz in double.
std::vector<double> polar_factor(const std::vector<float>& a, int64_t r, int64_t c) {
  std::vector<double> x(a.begin(), a.end());
  double f = 0;
  for (double v : x) f += v * v;
  for (double& v : x) v /= std::sqrt(f);
  std::vector<double> s(size_t(r * r)), y(size_t(r * c));
  for (int it = 0; it < 100; ++it) {  // X ← 1.5·X − 0.5·X·Xᵀ·X
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < r; ++j) {
        double d = 0;
        for (int64_t k = 0; k < c; ++k) d += x[size_t(i * c + k)] * x[size_t(j * c + k)];
        s[size_t(i * r + j)] = d;
      }
    for (int64_t i = 0; i < r; ++i)
      for (int64_t k = 0; k < c; ++k) {
        double d = 0;
        for (int64_t j = 0; j < r; ++j) d += s[size_t(i * r + j)] * x[size_t(j * c + k)];
        y[size_t(i * c + k)] = 1.5 * x[size_t(i * c + k)] - 0.5 * d;
      }
    x.swap(y);
  }
  return x;
}

TEST(NewtonSchulz, NearThePolarFactorWithSingularValuesInTheBand) {
  Rng rng(1);
  const int64_t r = 24, c = 40;
  const auto u = random_matrix(rng, r, c);
  std::vector<float> o(u.size());
  NsWorkspace ws;
  ns5(o, u, r, c, NsPrecision::kF32, ws);
  const auto p = polar_factor(u, r, c);
  // O = P·S' with S' the NS5 image of the singular values: ⟨O, P⟩/r is their mean, and
  // O·Oᵀ's diagonal stays inside the band the spec gives (about 0.68..1.13 for singular values).
  double dot = 0, on = 0;
  for (size_t i = 0; i < o.size(); ++i) dot += o[i] * p[i], on += double(o[i]) * o[i];
  EXPECT_GT(dot / std::sqrt(on * double(r)), 0.97);  // cosine with the polar factor
  EXPECT_GT(dot / double(r), 0.6);
  EXPECT_LT(dot / double(r), 1.2);
  for (int64_t i = 0; i < r; ++i) {
    double d = 0;
    for (int64_t k = 0; k < c; ++k) d += double(o[size_t(i * c + k)]) * o[size_t(i * c + k)];
    EXPECT_GT(d, 0.4) << i;
    EXPECT_LT(d, 1.35) << i;
  }
}

TEST(NewtonSchulz, TallInputIsTheTransposeOfTheWideResult) {
  Rng rng(2);
  const int64_t m = 30, n = 12;
  const auto u = random_matrix(rng, m, n);
  std::vector<float> ut(u.size()), o(u.size()), ot(u.size());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) ut[size_t(j * m + i)] = u[size_t(i * n + j)];
  NsWorkspace ws;
  ns5(o, u, m, n, NsPrecision::kF32, ws);
  ns5(ot, ut, n, m, NsPrecision::kF32, ws);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) EXPECT_NEAR(o[size_t(i * n + j)], ot[size_t(j * m + i)], 1e-5);
}

TEST(NewtonSchulz, Bf16EmulationStaysCloseAndRoundsToBf16) {
  Rng rng(3);
  const int64_t r = 16, c = 48;
  const auto u = random_matrix(rng, r, c);
  std::vector<float> a(u.size()), b(u.size());
  NsWorkspace ws;
  ns5(a, u, r, c, NsPrecision::kF32, ws);
  ns5(b, u, r, c, NsPrecision::kBF16, ws);
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]), norm += a[i] * a[i];
    uint32_t bits;
    std::memcpy(&bits, &b[i], 4);
    EXPECT_EQ(bits & 0xffffu, 0u) << "not a bf16 value";
  }
  EXPECT_LT(std::sqrt(diff / norm), 0.05);
  EXPECT_GT(std::sqrt(diff / norm), 0.0);
}

TEST(Schedule, CosineWsdConstant) {
  Schedule s;
  s.total_steps = 100, s.warmup_steps = 10, s.min_ratio = 0.1;
  EXPECT_DOUBLE_EQ(s.multiplier(1), 0.1);
  EXPECT_DOUBLE_EQ(s.multiplier(10), 1.0);
  EXPECT_NEAR(s.multiplier(55), 0.1 + 0.9 * 0.5, 1e-12);  // halfway through the cosine
  EXPECT_NEAR(s.multiplier(100), 0.1, 1e-12);
  s.kind = ScheduleKind::kWsd, s.decay_fraction = 0.2;
  EXPECT_DOUBLE_EQ(s.multiplier(80), 1.0);
  EXPECT_NEAR(s.multiplier(90), 0.55, 1e-12);
  EXPECT_NEAR(s.multiplier(100), 0.1, 1e-12);
  s.kind = ScheduleKind::kConstant;
  EXPECT_DOUBLE_EQ(s.multiplier(100), 1.0);
  s.warmup_steps = -1, s.total_steps = 1000;
  EXPECT_EQ(s.resolved_warmup(), 10);  // 1% of the steps
}

model::ParamTable small_table(bool ssnorm) {
  model::ModelConfig c;
  c.layers = 2, c.hidden = 16, c.heads = 2, c.vocab = 40, c.emb_proj = true;
  c.norm = ssnorm ? model::NormKind::kSingleScale : model::NormKind::kRms;
  return model::ParamTable(*model::resolve(c));
}

TEST(ParamGroups, AssignmentFollowsTheSpecTable) {
  const auto table = small_table(false);
  OptimConfig c;
  for (GroupsKind g : {GroupsKind::kAdam, GroupsKind::kMuon, GroupsKind::kMuonOnly}) {
    c.groups = g;
    const auto a = assign_groups(table, c);
    for (size_t i = 0; i < a.size(); ++i) {
      const auto& p = table.params()[i];
      const bool outside = p.role == model::ParamRole::kEmbedding || p.role == model::ParamRole::kHead ||
                           p.role == model::ParamRole::kNormGain;
      const OptimizerKind want = g == GroupsKind::kAdam ? OptimizerKind::kAdamW
                                 : g == GroupsKind::kMuonOnly ? OptimizerKind::kMuon
                                 : outside ? OptimizerKind::kAdamW : OptimizerKind::kMuon;
      EXPECT_EQ(a[i].optimizer, want) << p.name << " under " << groups_name(g);
      EXPECT_EQ(a[i].decay, p.shape.size() >= 2) << p.name;  // no decay on gains by default
    }
  }
}

TEST(Optimizer, StateIsTwoBuffersForAdamWAndOneForMuon) {
  const auto table = small_table(true);
  OptimConfig c;
  c.groups = GroupsKind::kMuon;
  ops::Context ctx = ops::Context::cpu();
  Optimizer opt(ctx, table, c);
  int adam_m = 0, adam_v = 0, muon = 0, adam_params = 0;
  StateImage image;
  for (const auto& s : opt.gather_state(image)) {
    adam_m += s.name.rfind("adamw.m.", 0) == 0;
    adam_v += s.name.rfind("adamw.v.", 0) == 0;
    muon += s.name.rfind("muon.momentum.", 0) == 0;
  }
  for (const auto& a : opt.assignment()) adam_params += a.optimizer == OptimizerKind::kAdamW;
  EXPECT_EQ(adam_m, adam_params);
  EXPECT_EQ(adam_v, adam_params);
  EXPECT_EQ(muon, int(table.params().size()) - adam_params);
  EXPECT_NE(opt.describe().find("Muon"), std::string::npos);
}

TEST(Optimizer, ClipScalesToTheMaxNormAndReportsTheNormBefore) {
  const auto table = small_table(false);
  OptimConfig c;
  c.clip = 0.5;
  ops::Context ctx = ops::Context::cpu();
  Optimizer opt(ctx, table, c);
  std::vector<float> g(size_t(table.total_elems()), 0.0f);
  Rng rng(4);
  double s = 0;
  for (const auto& p : table.params())
    for (int64_t i = 0; i < p.numel; ++i) s += std::pow(g[size_t(p.offset + i)] = float(rng.normal()), 2);
  EXPECT_NEAR(opt.clip_gradients(g.data()), std::sqrt(s), 1e-3);
  double after = 0;
  for (float x : g) after += double(x) * x;
  EXPECT_NEAR(std::sqrt(after), 0.5, 1e-5);
}

TEST(Optimizer, MuonOnScalarsStepsByPointTwoTimesLr) {
  // A 0-D tensor under Muon moves by ±0.2·lr (spec §2.2): the SSNorm gains under muon-only.
  const auto table = small_table(true);
  OptimConfig c;
  c.groups = GroupsKind::kMuonOnly, c.muon.lr = 0.01, c.muon.wd = 0.0, c.schedule.total_steps = 1;
  ops::Context ctx = ops::Context::cpu();
  Optimizer opt(ctx, table, c);
  std::vector<float> w(size_t(table.total_elems()), 1.0f), g(w.size());
  Rng rng(5);
  for (auto& x : g) x = float(rng.normal());
  opt.step(w.data(), g.data(), 1.0);
  for (const auto& p : table.params())
    if (p.shape.empty()) {
      EXPECT_NEAR(std::abs(w[size_t(p.offset)] - 1.0f), 0.2 * 0.01, 1e-6) << p.name;
    }
}

// The data-parallel partition: contiguous ranges that cover the buffer exactly once, never cut a
// Muon matrix, and balance the update cost; the AdamW compact ranges follow the cuts.
TEST(Partition, EveryElementOwnedOnceMuonNeverSplitAndBalanced) {
  model::ModelConfig mc;
  mc.layers = 4, mc.hidden = 64, mc.heads = 4, mc.vocab = 1000, mc.emb_proj = true, mc.norm = model::NormKind::kSingleScale;
  const model::ParamTable table(*model::resolve(mc));
  for (GroupsKind g : {GroupsKind::kAdam, GroupsKind::kMuon, GroupsKind::kMuonOnly}) {
    OptimConfig c;
    c.groups = g;
    const auto assign = assign_groups(table, c);
    const CompactLayout layout = compact_layout(table, assign);
    for (int n : {1, 2, 3, 4, 7}) {
      const Partition part = partition_parameters(table, assign, n, 5);
      ASSERT_EQ(part.begin.size(), size_t(n) + 1);
      EXPECT_EQ(part.begin.front(), 0);
      EXPECT_EQ(part.begin.back(), table.total_elems());
      EXPECT_EQ(part.second_begin.back(), layout.total);
      for (int r = 0; r < n; ++r) {
        EXPECT_LE(part.begin[size_t(r)], part.begin[size_t(r) + 1]);
        EXPECT_LE(part.second_begin[size_t(r)], part.second_begin[size_t(r) + 1]);
      }
      // Each element has exactly one owner (the ranges tile the buffer), and no Muon tensor
      // straddles a cut.
      int64_t covered = 0;
      for (int r = 0; r < n; ++r) covered += part.count(r);
      EXPECT_EQ(covered, table.total_elems());
      for (size_t i = 0; i < table.params().size(); ++i) {
        if (assign[i].optimizer != OptimizerKind::kMuon) continue;
        const auto& p = table.params()[i];
        for (int r = 1; r < n; ++r) {
          EXPECT_FALSE(part.begin[size_t(r)] > p.offset && part.begin[size_t(r)] < p.offset + p.numel)
              << p.name << " split at rank " << r << " of " << n;
        }
      }
    }
    // Balance at 2 ranks: neither side more than 75% of the cost when that is possible (the
    // AdamW tensors can be cut anywhere; with muon-only the largest matrix decides).
    const Partition two = partition_parameters(table, assign, 2, 5);
    if (g == GroupsKind::kAdam) {
      EXPECT_NEAR(double(two.count(0)) / double(table.total_elems()), 0.5, 0.05);
    }
  }
}

TEST(OptimConfig, UnknownKeysAndBadValuesAreRefusedByName) {
  auto r = optim_config_from_json(nlohmann::json{{"adamw", {{"lr", -1.0}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("optim.adamw.lr"), std::string::npos) << r.error().message;
  r = optim_config_from_json(nlohmann::json{{"muon", {{"betta", 0.9}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("optim.muon.betta"), std::string::npos);
  r = optim_config_from_json(nlohmann::json{{"groups", "sgd"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("optim.groups"), std::string::npos);
  r = optim_config_from_json(nlohmann::json{{"groups", "muon-only"}, {"schedule", {{"kind", "wsd"}}}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->groups, GroupsKind::kMuonOnly);
  EXPECT_EQ(r->schedule.kind, ScheduleKind::kWsd);
}

}  // namespace
}  // namespace osp::optim
