// oneDNN matmul for bf16 operands with fp32 accumulation and output (the CPU's bf16 GEMM).
// Primitives are cached by shape, strides and scalars: a training step multiplies the same few
// shapes every time, and building a oneDNN primitive costs more than a small product.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/dtype.h"
#include "ops/context.h"  // DnnlHandles, DnnlHandlesDeleter

namespace osp::ops::cpu {

using DnnlHandlesPtr = std::unique_ptr<DnnlHandles, DnnlHandlesDeleter>;
DnnlHandlesPtr make_dnnl_handles();

// c (m, n) = alpha · op(a) · op(b) + beta · c with bf16 a, b and fp32 c (row-major, leading
// dimensions in elements).
void dnnl_gemm_bf16(DnnlHandles& h, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                    float alpha, const BFloat16* a, int64_t lda, const BFloat16* b, int64_t ldb,
                    float beta, float* c, int64_t ldc);

// "oneDNN 2.6.3, brg:avx512_core_bf16" (the implementation of a representative product).
std::string dnnl_bf16_description(DnnlHandles& h);
// True when oneDNN's best ISA here multiplies bf16 natively (avx512_core_bf16 or AMX).
bool dnnl_native_bf16(DnnlHandles& h);
std::string dnnl_isa_name(DnnlHandles& h);

}  // namespace osp::ops::cpu
