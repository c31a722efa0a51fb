// Activation fake-quantizer entries.
#include "ops/quantize.h"

#include "ops/dispatch.h"

namespace osp::ops {

void fake_quant_per_token(Context& ctx, TensorView x, int bits) {
  detail::expect_on(ctx, x, "fake_quant_per_token", "x");
  detail::expect_dtype(x, {DType::kF32, DType::kF64}, "fake_quant_per_token", "x");
  if (bits >= 16) return;
  OSP_DISPATCH(ctx, fake_quant_per_token, ctx, x, bits);
}

int64_t fake_quant_per_group(Context& ctx, TensorView x, int64_t group, int bits) {
  detail::expect_on(ctx, x, "fake_quant_per_group", "x");
  detail::expect_dtype(x, {DType::kF32, DType::kF64}, "fake_quant_per_group", "x");
  detail::expect_contiguous(x, "fake_quant_per_group", "x");
  OSP_CHECK(group >= 1 && x.numel() % group == 0, "ops::fake_quant_per_group: {} values are not whole groups of {}",
            x.numel(), group);
  if (bits >= 16) return 0;
  OSP_DISPATCH_RETURN(ctx, fake_quant_per_group, ctx, x, group, bits);
}

}  // namespace osp::ops
