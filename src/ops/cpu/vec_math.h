// exp written so the compiler vectorises it inside `#pragma omp simd` loops (glibc's expf is a
// scalar call without -ffast-math). Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2 (n rounded by the 1.5·2^23 trick, which vectorises), then a
// degree-7 Taylor polynomial for e^r (truncation < 2e-8 relative) and 2^n from the exponent bits.
// Max error about 2 ulp against the correctly rounded value; underflows to 0 below −87.3.
// The double overload is std::exp (double runs only in gradient checks).
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

namespace osp::ops::cpu {

inline float fast_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;        // ln2 split so n·kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5·2^23: adding and subtracting it rounds to even
  const float lo = x < -87.3f ? -87.3f : x;
  const float xc = lo > 88.7f ? 88.7f : lo;
  const float n = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n as exponent bits, for n in [−126, 128]: n = 128 (x near 88.7) is built as 2^127·2.
  const bool top = n > 127.0f;
  const float scale = std::bit_cast<float>(static_cast<int32_t>((top ? n - 1.0f : n) + 127.0f) << 23);
  return x < -87.3f ? 0.0f : (p * scale) * (top ? 2.0f : 1.0f);
}

inline double fast_exp(double x) { return std::exp(x); }

}  // namespace osp::ops::cpu
