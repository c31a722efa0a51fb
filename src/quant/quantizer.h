// The weight quantizer of measurement.md §3.4: symmetric per-row RTN with the clip-ratio search,
// run offline on the host copy of a plain model's weights. Rounding is half to even (nearbyint,
// §0). The activation quantizers (§3.5, §3.6) run on the model's device: ops/quantize.h.
#pragma once
#include <cstdint>

namespace osp::quant {

// §3.4: the clip-searched scale of one weight row of n values at `bits` (maxq = 2^(bits−1) − 1).
float weight_scale(const float* w, int64_t n, int bits);
// out = s · clamp(rint(w / s), −(maxq+1), maxq). out may alias w.
void quantize_row_sym(float* out, const float* w, int64_t n, float scale, int bits);
// RTN with clip search of a (rows, cols) weight, in place; bits 16 leaves it unchanged.
void rtn_quantize_weight(float* w, int64_t rows, int64_t cols, int bits);

}  // namespace osp::quant
