// NS5: the quintic Newton–Schulz iteration that approximately orthogonalises a matrix
// (osp-method.md §2.2). Coefficients (3.4445, −4.7750, 2.0315), the same each iteration; the
// wide orientation (rows ≤ cols) is used; X starts as U / (‖U‖_F + eps). GEMMs go to BLAS.
#pragma once
#include <cstdint>
#include <vector>

namespace osp::optim {

enum class NsPrecision {
  kF32,   // fp32 throughout (the CPU default)
  kBF16,  // every product and sum rounded to bf16, as the GPU/reference does (emulation)
};

struct NsCoefficients {
  float a = 3.4445f, b = -4.7750f, c = 2.0315f;
};

// Scratch for one m×n problem; reused across calls of the same or smaller size.
struct NsWorkspace {
  std::vector<float> x, y, a, b;
};

// out (m, n) = NS5(u (m, n)); out may alias u.
void newton_schulz(float* out, const float* u, int64_t m, int64_t n, int steps, double eps,
                   NsPrecision precision, NsWorkspace& ws, NsCoefficients k = {});

// FLOPs of one call (for benchmarks): steps · (4·r²·c + 2·r³), r = min(m, n), c = max(m, n).
double newton_schulz_flops(int64_t m, int64_t n, int steps);

}  // namespace osp::optim
