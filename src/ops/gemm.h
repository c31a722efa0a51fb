// General matrix product, the one way osp multiplies matrices on any device:
// c (m, n) = alpha · op(a) · op(b) + beta · c, row-major views (ld may exceed cols).
// Operand dtypes: f32 × f32 → f32 and f64 × f64 → f64 (BLAS: OpenBLAS on the CPU), and
// bf16 × bf16 → f32 (oneDNN on the CPU): bf16 operands, fp32 accumulation and output.
#pragma once
#include <string>

#include "ops/context.h"

namespace osp::ops {

struct GemmOp {
  bool trans_a = false;  // op(a) = aᵀ: a is stored (k, m)
  bool trans_b = false;  // op(b) = bᵀ: b is stored (n, k)
  double alpha = 1.0;
  double beta = 0.0;     // 0: c is overwritten (its old contents may be anything)
};

void gemm(Context& ctx, TensorView c, TensorView a, TensorView b, GemmOp op = {});

// Which implementation runs bf16 GEMMs here, e.g. "oneDNN 2.6.3, brg:avx512_core_bf16".
std::string bf16_gemm_description(Context& ctx);
// Whether this CPU multiplies bf16 natively (AVX512_BF16 or AMX); "" if so, else the missing
// feature in words. oneDNN computes bf16 everywhere, but without these features only slowly.
std::string bf16_missing_cpu_feature(Context& ctx);

}  // namespace osp::ops
