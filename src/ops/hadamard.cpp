// Hadamard transform entry.
#include "ops/hadamard.h"

#include "ops/dispatch.h"

namespace osp::ops {

void hadamard_transform(Context& ctx, TensorView rows, std::span<const int8_t> hk, int k) {
  detail::expect_on(ctx, rows, "hadamard_transform", "rows");
  detail::expect_dtype(rows, {DType::kF32, DType::kF64}, "hadamard_transform", "rows");
  detail::expect_contiguous(rows, "hadamard_transform", "rows");
  const int64_t n = rows.cols(), m = k >= 1 ? n / k : 0;
  OSP_CHECK(k >= 1 && hk.size() == size_t(k) * size_t(k) && n % k == 0 && m >= 1 && (m & (m - 1)) == 0,
            "ops::hadamard_transform: rows of {} are not K·2^m for K = {}", n, k);
  OSP_DISPATCH(ctx, hadamard_transform, ctx, rows, hk, k);
}

}  // namespace osp::ops
