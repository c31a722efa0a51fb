// Elementwise and reduction ops on whole views: copy, zero, cast, scale, and the sum of squares
// behind the gradient norm. Any code outside ops that moves or clears a device buffer uses these.
#pragma once
#include "ops/context.h"

namespace osp::ops {

// dst = src: same dtype and shape; either may be a strided matrix.
void copy(Context& ctx, TensorView dst, TensorView src);
// dst = 0.
void zero(Context& ctx, TensorView dst);
// dst = src converted between f32, f64 and bf16 (to bf16: round to nearest even, spec §0);
// same number of elements.
void cast(Context& ctx, TensorView dst, TensorView src);
// x *= alpha (f32 or f64, contiguous).
void scale(Context& ctx, TensorView x, double alpha);
// Σ x² in f64 over a contiguous f32 or f64 view, summed in fixed chunks in order: the same bits
// for any thread count (exact resume relies on it).
double sum_squares(Context& ctx, TensorView x);

}  // namespace osp::ops
