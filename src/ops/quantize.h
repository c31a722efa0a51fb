// Fake (simulated) activation quantizers of measurement.md §3.5–§3.6, applied in place to device
// buffers by the evaluation's forward tap. Rounding is half to even (nearbyint) everywhere (§0).
// f32 is the protocol; f64 serves the reference cross-check (no fp32 rounding flips).
#pragma once
#include <cstdint>

#include "ops/context.h"

namespace osp::ops {

// §3.5: each row of x (rows, n) quantized asymmetrically to levels [0, 2^bits − 1] with the range
// widened to include 0 (an all-zero row uses [−1, 1]). bits ≥ 16 leaves x unchanged.
void fake_quant_per_token(Context& ctx, TensorView x, int bits);

// §3.6: each group of `group` consecutive values of a contiguous x, exact min/max, zero point not
// clamped. A constant non-zero group is left exact (the reference would produce NaN); returns how
// many there were (quirk Q12).
int64_t fake_quant_per_group(Context& ctx, TensorView x, int64_t group, int bits);

}  // namespace osp::ops
