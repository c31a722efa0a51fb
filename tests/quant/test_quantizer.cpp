// Quantizers (measurement.md §3.4–§3.6): round half to even, range rules, clip search.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/test_context.h"
#include "core/rng.h"
#include "ops/quantize.h"
#include "quant/quantizer.h"

namespace osp {
namespace {

TEST(Quantizer, PerTokenRoundsHalfToEvenAndIncludesZero) {
  // Range [0, 15] → scale 1, zero 0; 2.5 → 2 and 3.5 → 4 (half to even, never half away).
  std::vector<float> x = {0.0f, 15.0f, 2.5f, 3.5f, -0.0f, 7.25f};
  ops::fake_quant_per_token(osp::test::ctx(), TensorView::of(x.data(), {1, int64_t(x.size())}), 4);
  EXPECT_EQ(x, (std::vector<float>{0, 15, 2, 4, 0, 7}));
  // All positive: the range still starts at 0, so zero is exact.
  std::vector<float> y = {3.0f, 6.0f, 4.5f};
  ops::fake_quant_per_token(osp::test::ctx(), TensorView::of(y.data(), {1, 3}), 4);
  EXPECT_FLOAT_EQ(y[1], 6.0f);
  std::vector<float> z = {0, 0, 0};
  ops::fake_quant_per_token(osp::test::ctx(), TensorView::of(z.data(), {1, 3}), 4);  // lo = hi = 0 → range [−1, 1]
  EXPECT_EQ(z, (std::vector<float>{0, 0, 0}));
}

TEST(Quantizer, GroupUsesExactRangeAndKeepsConstantGroups) {
  std::vector<float> x = {1.0f, 16.0f, 8.5f, 9.5f};  // scale 1, zero −1 (not clamped)
  EXPECT_EQ(ops::fake_quant_per_group(osp::test::ctx(), TensorView::of(x.data(), {4}), 4, 4), 0);
  EXPECT_EQ(x, (std::vector<float>{1, 16, 8, 10}));
  std::vector<float> c = {3.0f, 3.0f};
  EXPECT_EQ(ops::fake_quant_per_group(osp::test::ctx(), TensorView::of(c.data(), {2}), 2, 4), 1);
  EXPECT_EQ(c, (std::vector<float>{3, 3}));
}

// 4-bit levels are multiples of the scale in [−8, 7]; a row with one outlier gets clipped
// (p < 1), and the chosen scale's error is no worse than no clipping.
TEST(Quantizer, WeightClipSearch) {
  Rng rng(31);
  std::vector<float> w(256);
  for (auto& v : w) v = float(rng.normal());
  w[5] = 9.0f;
  const float s = quant::weight_scale(w.data(), 256, 4);
  EXPECT_LT(s, 9.0f / 7.0f);
  std::vector<float> q(256), q1(256);
  quant::quantize_row_sym(q.data(), w.data(), 256, s, 4);
  quant::quantize_row_sym(q1.data(), w.data(), 256, 9.0f / 7.0f, 4);
  double e = 0, e1 = 0;
  for (int j = 0; j < 256; ++j) {
    const double level = double(q[size_t(j)]) / double(s);
    EXPECT_NEAR(level, std::nearbyint(level), 1e-5);
    EXPECT_GE(level, -8);
    EXPECT_LE(level, 7);
    e += std::pow(std::abs(q[size_t(j)] - w[size_t(j)]), 2.4);
    e1 += std::pow(std::abs(q1[size_t(j)] - w[size_t(j)]), 2.4);
  }
  EXPECT_LE(e, e1);
  std::vector<float> w16 = w;
  quant::rtn_quantize_weight(w16.data(), 16, 16, 16);
  EXPECT_EQ(w16, w);
}

}  // namespace
}  // namespace osp
