// The Hadamard transform M = (H_K ⊗ H_{n/K}) / √n (measurement.md §3.8) applied to rows:
// a ← M·a for each row a. The base matrix H_K (K×K, ±1) comes from quant/hadamard.h; here is only
// the arithmetic: K fast Walsh–Hadamard transforms of n/K values, then the H_K product.
#pragma once
#include <cstdint>
#include <span>

#include "ops/context.h"

namespace osp::ops {

// rows (count, n) in place, f32 or f64; hk is H_K row-major (k = 1: hk = {1}, a plain FWHT).
void hadamard_transform(Context& ctx, TensorView rows, std::span<const int8_t> hk, int k);

}  // namespace osp::ops
