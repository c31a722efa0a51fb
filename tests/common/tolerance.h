// Tolerances of the numerical tests, derived in one place from the dtypes' unit roundoff and the
// reduction length (docs/numerics.md). Errors are measured as max|computed − reference| over
// max|reference| of the whole tensor (entries near zero would make element-wise relative errors
// meaningless).
//
// A value computed from k-term sums whose inputs were rounded to unit roundoff u_in, accumulated
// with unit roundoff u_acc and stored with unit roundoff u_out has, to first order and for
// random-signed terms, a relative error of about 2·u_in + √k·u_acc + u_out (the rounded inputs
// perturb each term by at most 2·u_in relative; a k-term sum adds errors that grow like √k). The
// tolerance is that estimate times a safety factor of 4, which also covers the few-ulp error of
// the vectorised exp (ops/cpu/vec_math.h).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace osp::test {

// Unit roundoff (half an ulp at 1) of a storage type under round to nearest.
constexpr double unit_roundoff(DType d) {
  switch (d) {
    case DType::kF64: return 0x1.0p-53;
    case DType::kF32: return 0x1.0p-24;
    case DType::kBF16: return 0x1.0p-8;
    case DType::kF16: return 0x1.0p-11;
    case DType::kI32: return 0;
  }
  return 0;
}

inline constexpr double kSafety = 4.0;

// Relative tolerance of a result with inputs rounded to `in`, k-term sums accumulated in `acc` and
// the result stored in `out`.
inline double tolerance(DType in, DType acc, int64_t k, DType out) {
  return kSafety * (2 * unit_roundoff(in) + std::sqrt(double(std::max<int64_t>(k, 1))) * unit_roundoff(acc) +
                    unit_roundoff(out));
}

// max|a − b| / max|b| (0 when b is all zero and a equals it).
inline double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    num = std::max(num, std::abs(a[i] - b[i]));
    den = std::max(den, std::abs(b[i]));
  }
  return den > 0 ? num / den : num;
}

}  // namespace osp::test
