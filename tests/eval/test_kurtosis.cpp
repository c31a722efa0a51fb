// Kurtosis (measurement.md §1): the formula, the Gaussian floor, planted outliers, skipped
// vectors, and the token protocol against the sequence protocol at width 1.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/test_context.h"
#include "common/model_fixtures.h"
#include "eval/eval_data.h"
#include "eval/kurtosis.h"

namespace osp {
namespace {

TEST(Kurtosis, FormulaUsesRawFourthMomentAndUnbiasedVariance) {
  Rng rng(11);
  std::vector<float> x(37);
  for (auto& v : x) v = float(rng.normal() + 0.7);  // non-zero mean: the two variants differ
  double mu = 0, m4 = 0, c2 = 0;
  for (float v : x) mu += v, m4 += std::pow(double(v), 4);
  mu /= 37, m4 /= 37;
  for (float v : x) c2 += (v - mu) * (v - mu);
  const double var = c2 / 36, expect = m4 / (var * var) - 3;
  double k = 0;
  ASSERT_TRUE(eval::excess_kurtosis(osp::test::ctx(), x.data(), 37, &k));
  EXPECT_NEAR(k, expect, 1e-9 * std::abs(expect));
  const std::vector<float> flat(16, 2.5f);
  EXPECT_FALSE(eval::excess_kurtosis(osp::test::ctx(), flat.data(), 16, &k));
}

// Mean of k⁺ over many Gaussian vectors sits at the floor √(24/D)/√(2π) (§1.4), and a planted
// outlier channel makes it large.
TEST(Kurtosis, GaussianFloorAndPlantedOutliers) {
  const int64_t d = 256, n = 4000;
  Rng rng(12);
  std::vector<float> x(static_cast<size_t>(d));
  double plain = 0, planted = 0, k = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (auto& v : x) v = float(rng.normal());
    ASSERT_TRUE(eval::excess_kurtosis(osp::test::ctx(), x.data(), d, &k));
    plain += std::max(k, 0.0);
    x[17] = 20.0f;  // one outlier channel
    ASSERT_TRUE(eval::excess_kurtosis(osp::test::ctx(), x.data(), d, &k));
    planted += std::max(k, 0.0);
  }
  const double floor = std::sqrt(24.0 / double(d)) / std::sqrt(2 * M_PI);
  EXPECT_NEAR(plain / double(n), floor, 0.25 * floor);
  EXPECT_GT(planted / double(n), 50.0);  // ≈ 92 for one 20σ channel at D = 256
}

model::ModelConfig tiny_config() {
  model::ModelConfig c;
  c.layers = 2, c.hidden = 32, c.heads = 4, c.kv_heads = 2, c.ffn = 48, c.vocab = 50, c.context = 16;
  c.norm = model::NormKind::kSingleScale, c.emb_proj = true;
  return *model::resolve(c);
}

// `token` runs each token alone at position 0 (once per distinct id); `sequence` at width 1
// runs exactly those sequences, so the per-state values and the average agree.
TEST(Kurtosis, TokenProtocolEqualsSequenceOfWidthOne) {
  const auto c = tiny_config();
  const model::ParamTable table(c);
  Rng rng(13);
  auto p = test::random_parameters<float>(table, c, rng);
  const auto w = model::LlamaWeights<float>::bind(table, p.data());
  const auto tok = test::random_tokens(rng, 3 * 8, c.vocab);
  auto a = eval::measure_activations(osp::test::ctx(), c, w, tok, 3, 8, eval::Protocol::kToken);
  auto b = eval::measure_activations(osp::test::ctx(), c, w, tok, 24, 1, eval::Protocol::kSequence);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->states.size(), size_t(c.layers + 1));
  // Different batch shapes take different GEMM blockings: fp32 rounding, not bit equality.
  EXPECT_NEAR(a->average, b->average, 1e-6);
  for (size_t s = 0; s < a->states.size(); ++s) {
    EXPECT_NEAR(a->states[s].kurtosis, b->states[s].kurtosis, 1e-6);
    EXPECT_NEAR(a->states[s].max_ratio, b->states[s].max_ratio, 1e-5);
    EXPECT_EQ(a->states[s].max_channel, b->states[s].max_channel);
  }
  // In context the states differ from position 0 (attention mixes tokens).
  auto seq = eval::measure_activations(osp::test::ctx(), c, w, tok, 3, 8, eval::Protocol::kSequence);
  ASSERT_TRUE(seq.ok());
  EXPECT_NE(seq->average, a->average);
}

TEST(Kurtosis, RefusesTooFewTokensAndBadIds) {
  const auto c = tiny_config();
  const model::ParamTable table(c);
  Rng rng(14);
  auto p = test::random_parameters<float>(table, c, rng);
  const auto w = model::LlamaWeights<float>::bind(table, p.data());
  std::vector<int32_t> tok(10, 1);
  auto r = eval::measure_activations(osp::test::ctx(), c, w, tok, 4, 4, eval::Protocol::kToken);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("16 tokens"), std::string::npos) << r.error().message;
  tok[3] = 999;
  EXPECT_FALSE(eval::measure_activations(osp::test::ctx(), c, w, tok, 2, 5, eval::Protocol::kToken).ok());
  EXPECT_FALSE(eval::measure_activations(osp::test::ctx(), c, w, tok, 1, 32, eval::Protocol::kSequence).ok());
  EXPECT_FALSE(eval::parse_protocol("paper").ok());
}

TEST(EvalData, RefusesMissingAndMalformedInputs) {
  auto r = eval::load_eval_tokens({"/nonexistent/data.txt", "val", nullptr, 0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/data.txt"), std::string::npos);
  const std::string dir = ::testing::TempDir();
  r = eval::load_eval_tokens({dir, "val", nullptr, 0});  // a folder without manifest.json
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("manifest.json"), std::string::npos);
  EXPECT_FALSE(eval::load_eval_tokens({"", "val", nullptr, 0}).ok());
}

}  // namespace
}  // namespace osp
