// Rotary position embedding, half-split ("rotate half", transformers convention): element i of a
// head is paired with element i + Dh/2, not with i + 1 (osp-method.md §1.4).
#pragma once
#include <cstdint>
#include <vector>

#include "ops/context.h"

namespace osp::ops {

// cos/sin of the angle a(p, i) = p · θ^(−2i/Dh) for p < max_positions, i < Dh/2, computed with
// transformers' fp32 angle arithmetic so our q/k agree with it to about one ulp.
struct RopeTable {
  int64_t max_positions = 0;
  int64_t half = 0;        // Dh / 2
  std::vector<float> cos;  // (max_positions, half)
  std::vector<float> sin;  // (max_positions, half)
};
RopeTable make_rope_table(int64_t max_positions, int64_t head_dim, double theta);

// In place on x (b·seq, heads·Dh), f32 or f64: row r holds position r mod seq.
void rope_forward(Context& ctx, TensorView x, const RopeTable& table, int64_t seq);
// In place on dx: the transposed rotation (angle −a).
void rope_backward(Context& ctx, TensorView dx, const RopeTable& table, int64_t seq);

}  // namespace osp::ops
