// Fake quantizers of measurement.md §3.4–§3.6: symmetric per-row weight RTN with the clip-ratio
// search, asymmetric per-token activations (range widened to include 0), asymmetric per-head
// groups with exact min/max. Rounding is half to even (nearbyint) everywhere (§0).
#pragma once
#include <cstdint>

namespace osp::quant {

// §3.4: the clip-searched scale of one weight row of n values at `bits` (maxq = 2^(bits−1) − 1).
float weight_scale(const float* w, int64_t n, int bits);
// out = s · clamp(rint(w / s), −(maxq+1), maxq). out may alias w.
void quantize_row_sym(float* out, const float* w, int64_t n, float scale, int bits);
// RTN with clip search of a (rows, cols) weight, in place; bits 16 leaves it unchanged.
void rtn_quantize_weight(float* w, int64_t rows, int64_t cols, int bits);

// §3.5: one token's row of n features, in place (levels [0, 2^bits − 1], range includes 0).
// float is the protocol; double serves the reference cross-check (no fp32 rounding flips).
template <class T>
void quantize_per_token(T* x, int64_t n, int bits);
// §3.6: one group (a head's Dh features), exact min/max, zero point not clamped. A constant
// non-zero group is left exact (the reference would produce NaN); returns false for it.
template <class T>
bool quantize_group_exact(T* x, int64_t n, int bits);

}  // namespace osp::quant
