// NS5: the quintic Newton–Schulz iteration that approximately orthogonalises a matrix
// (osp-method.md §2.2). Coefficients (3.4445, −4.7750, 2.0315), the same each iteration; X starts
// as U / (‖U‖_F + eps). All products are ops::gemm calls, so it runs on the context's device.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "ops/context.h"

namespace osp::optim {

enum class NsPrecision {
  kF32,   // fp32 throughout (the CPU default of fp32 runs)
  kBF16,  // X, A and B held in bf16, products accumulated in fp32, every result rounded to bf16:
          // the reference's arithmetic (tensor cores), here with oneDNN's bf16 GEMMs
};

struct NsCoefficients {
  float a = 3.4445f, b = -4.7750f, c = 2.0315f;
};

// Scratch for one m×n problem; grows to the largest size seen and is reused.
struct NsWorkspace {
  Tensor x, y, a, b;     // f32: (m, n), (m, n), (r, r), (r, r) with r = min(m, n)
  Tensor xh, ah, bh;     // bf16 copies (kBF16 only)
};

// out (m, n) = NS5(u (m, n)), both f32 and contiguous; out may alias u. A tall matrix (m > n) is
// iterated as X ← a·X + X·B with A = XᵀX, the transpose of the spec's wide form (equal in exact
// arithmetic: B is symmetric), so no transposed copy is made.
void newton_schulz(ops::Context& ctx, TensorView out, TensorView u, int steps, double eps, NsPrecision precision,
                   NsWorkspace& ws, NsCoefficients k = {});

// FLOPs of one call (for benchmarks): steps · (4·r²·c + 2·r³), r = min(m, n), c = max(m, n).
double newton_schulz_flops(int64_t m, int64_t n, int steps);

}  // namespace osp::optim
