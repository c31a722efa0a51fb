// CPU GEMM: OpenBLAS for f32 and f64, oneDNN for bf16 operands (fp32 accumulation and output).
#include "ops/cpu/backend.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/gemm_dnnl.h"

namespace osp::ops::cpu {

void gemm(Context& ctx, TensorView c, TensorView a, TensorView b, const GemmOp& op) {
  a = a.as_matrix(), b = b.as_matrix(), c = c.as_matrix();
  const int64_t m = c.rows(), n = c.cols(), k = op.trans_a ? a.rows() : a.cols();
  if (m == 0 || n == 0) return;
  switch (a.dtype()) {
    case DType::kF32:
      gemm(op.trans_a, op.trans_b, m, n, k, float(op.alpha), a.data<float>(), a.ld(), b.data<float>(), b.ld(),
           float(op.beta), c.data<float>(), c.ld());
      return;
    case DType::kF64:
      gemm(op.trans_a, op.trans_b, m, n, k, op.alpha, a.data<double>(), a.ld(), b.data<double>(), b.ld(), op.beta,
           c.data<double>(), c.ld());
      return;
    case DType::kBF16:
      dnnl_gemm_bf16(ctx.dnnl(), op.trans_a, op.trans_b, m, n, k, float(op.alpha), a.data<BFloat16>(), a.ld(),
                     b.data<BFloat16>(), b.ld(), float(op.beta), c.data<float>(), c.ld());
      return;
    default: OSP_CHECK(false, "ops::gemm: no CPU kernel for {}", dtype_name(a.dtype()));
  }
}

}  // namespace osp::ops::cpu
