// Rotary position embedding, half-split ("rotate half", transformers convention): element i of a
// head is paired with element i + Dh/2, not with i + 1 (osp-method.md §1.4).
#pragma once
#include <cstdint>
#include <vector>

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

// In place on x (b, t, heads·Dh): row (s, p) is rotated by the angles of position p.
template <class T>
void rope_forward(T* x, const RopeTable& table, int64_t b, int64_t t, int64_t heads);

// In place on dx: the transposed rotation (angle −a).
template <class T>
void rope_backward(T* dx, const RopeTable& table, int64_t b, int64_t t, int64_t heads);

}  // namespace osp::ops
