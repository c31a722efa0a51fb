// GPTQ for one linear (measurement.md §3.11): static per-row scales from the clip search on the
// original weight, dead columns zeroed, relative damping, upper Cholesky factor of H⁻¹, blocks
// of 128 columns, no act-order, no groups.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "ops/context.h"

namespace osp::quant {

struct GptqOptions {
  int bits = 4;
  double damp = 0.01;   // × mean(diag H)
  int64_t block = 128;
};

// w (rows, cols), host memory, in place; hessian (cols, cols) = (2/S)·Σ x·xᵀ, taken by value (it
// is damped). The block updates are ops::gemm calls on the CPU context ctx.
// On a failed Cholesky the damping is retried ×10 up to 3 times (a warning names `name`); then
// an error. warnings receives those lines.
Status gptq_quantize(ops::Context& ctx, float* w, int64_t rows, int64_t cols, std::vector<float> hessian,
                     const GptqOptions& opt, const std::string& name,
                     std::vector<std::string>* warnings = nullptr);

// The upper Cholesky factor U of H⁻¹ (H⁻¹ = Uᵀ·U), row-major (n, n), f64; false if H is not
// positive definite. Exposed for tests.
bool inverse_cholesky_upper(std::vector<double>& h, int64_t n);

}  // namespace osp::quant
