// ops::gemm entry: shape and dtype checks, then the device's backend.
#include "ops/gemm.h"

#include "ops/cpu/gemm_dnnl.h"
#include "ops/dispatch.h"

namespace osp::ops {

void gemm(Context& ctx, TensorView c, TensorView a, TensorView b, GemmOp op) {
  using detail::expect_on;
  expect_on(ctx, c, "gemm", "c");
  expect_on(ctx, a, "gemm", "a");
  expect_on(ctx, b, "gemm", "b");
  a = a.as_matrix(), b = b.as_matrix(), c = c.as_matrix();
  const int64_t m = op.trans_a ? a.cols() : a.rows(), k = op.trans_a ? a.rows() : a.cols();
  const int64_t kb = op.trans_b ? b.cols() : b.rows(), n = op.trans_b ? b.rows() : b.cols();
  OSP_CHECK(k == kb && c.rows() == m && c.cols() == n, "ops::gemm: ({} x {}) · ({} x {}) into {}", m, k, kb, n,
            c.describe());
  detail::expect_same_dtype(a, b, "gemm");
  detail::expect_dtype(a, {DType::kF32, DType::kF64, DType::kBF16}, "gemm", "a");
  const DType out = a.dtype() == DType::kF64 ? DType::kF64 : DType::kF32;
  OSP_CHECK(c.dtype() == out, "ops::gemm: {} operands need an {} c, got {}", dtype_name(a.dtype()),
            dtype_name(out), dtype_name(c.dtype()));
  OSP_DISPATCH(ctx, gemm, ctx, c, a, b, op);
}

std::string bf16_gemm_description(Context& ctx) {
  OSP_CHECK(ctx.device() == Device::kCpu, "bf16_gemm_description is for CPU contexts");
  return cpu::dnnl_bf16_description(ctx.dnnl());
}

std::string bf16_missing_cpu_feature(Context& ctx) {
  OSP_CHECK(ctx.device() == Device::kCpu, "bf16_missing_cpu_feature is for CPU contexts");
  if (cpu::dnnl_native_bf16(ctx.dnnl())) return "";
  return fmt::format("AVX512_BF16 (or AMX-BF16): oneDNN's best instruction set here is {}",
                     cpu::dnnl_isa_name(ctx.dnnl()));
}

}  // namespace osp::ops
