// Tests of core utilities: bf16/f16 rounding, the random generator's distributions, Result.
#include <gtest/gtest.h>

#include <cmath>

#include "core/dtype.h"
#include "core/result.h"
#include "core/rng.h"

namespace osp {
namespace {

TEST(DType, Bf16RoundsHalfToEven) {
  // 1 + 2^-8 is exactly halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to even (1).
  EXPECT_EQ(round_bf16(1.0f + 0x1.0p-8f), 1.0f);
  // 1 + 3*2^-8 is halfway between 1 + 2^-7 (odd mantissa) and 1 + 2^-6: goes up to even.
  EXPECT_EQ(round_bf16(1.0f + 3 * 0x1.0p-8f), 1.0f + 0x1.0p-6f);
  EXPECT_EQ(round_bf16(1.0f + 0x1.0p-8f + 0x1.0p-20f), 1.0f + 0x1.0p-7f);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(-3.5f)), -3.5f);
}

TEST(DType, F16RoundTrip) {
  EXPECT_EQ(f16_to_f32(f32_to_f16(0.5f)), 0.5f);
  EXPECT_EQ(f16_to_f32(f32_to_f16(1.0f + 0x1.0p-11f)), 1.0f);  // tie to even
  EXPECT_EQ(f16_to_f32(f32_to_f16(65504.0f)), 65504.0f);
}

TEST(Rng, NormalMoments) {
  Rng rng(7);
  const int n = 200000;
  double s1 = 0, s2 = 0, s4 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    s1 += z, s2 += z * z, s4 += z * z * z * z;
  }
  EXPECT_NEAR(s1 / n, 0.0, 0.01);
  EXPECT_NEAR(s2 / n, 1.0, 0.02);
  EXPECT_NEAR(s4 / n, 3.0, 0.1);
}

TEST(Rng, TruncatedNormalStd) {
  // The spec's constant: the std of N(0,1) truncated to [-2, 2] is 0.8796256610342398.
  Rng rng(3);
  const int n = 200000;
  double s2 = 0, mx = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.truncated_normal(2.0);
    s2 += z * z;
    mx = std::max(mx, std::abs(z));
  }
  EXPECT_LE(mx, 2.0);
  EXPECT_NEAR(std::sqrt(s2 / n), 0.8796256610342398, 0.005);
}

TEST(Rng, StateRoundTripReproducesStream) {
  Rng a(11);
  for (int i = 0; i < 5; ++i) a.normal();
  const auto st = a.state();
  const double x = a.normal(), y = a.normal();
  Rng b(0);
  b.set_state(st);
  EXPECT_EQ(b.normal(), x);
  EXPECT_EQ(b.normal(), y);
}

Result<int> parse_positive(int v) {
  if (v <= 0) return make_error("value {} is not positive", v);
  return v;
}

TEST(Result, CarriesValueOrMessage) {
  auto ok = parse_positive(3);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "value -1 is not positive");
}

}  // namespace
}  // namespace osp
