// RoPE: the host angle table and the entries.
#include "ops/rope.h"

#include <cmath>

#include "ops/dispatch.h"

namespace osp::ops {

RopeTable make_rope_table(int64_t max_positions, int64_t head_dim, double theta) {
  OSP_CHECK(head_dim % 2 == 0, "RoPE needs an even head dim, got {}", head_dim);
  RopeTable tab;
  tab.max_positions = max_positions;
  tab.half = head_dim / 2;
  tab.cos.resize(size_t(max_positions * tab.half));
  tab.sin.resize(size_t(max_positions * tab.half));
  for (int64_t i = 0; i < tab.half; ++i) {
    // e_i = fl32(fl32(2i) / Dh); inv_i = fl32(1 / fl32(θ^e_i)); a = fl32(p · inv_i) (spec §1.4).
    const float e = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    const float power = static_cast<float>(std::pow(theta, static_cast<double>(e)));
    const float inv = 1.0f / power;
    for (int64_t p = 0; p < max_positions; ++p) {
      const float a = static_cast<float>(p) * inv;
      tab.cos[size_t(p * tab.half + i)] = static_cast<float>(std::cos(static_cast<double>(a)));
      tab.sin[size_t(p * tab.half + i)] = static_cast<float>(std::sin(static_cast<double>(a)));
    }
  }
  return tab;
}

namespace {
void check(Context& ctx, const TensorView& x, const RopeTable& table, int64_t seq, const char* op) {
  detail::expect_on(ctx, x, op, "x");
  detail::expect_dtype(x, {DType::kF32, DType::kF64}, op, "x");
  detail::expect_contiguous(x, op, "x");
  OSP_CHECK(seq >= 1 && x.rows() % seq == 0, "ops::{}: {} rows are not whole sequences of {}", op, x.rows(), seq);
  OSP_CHECK(seq <= table.max_positions, "ops::{}: sequence length {} exceeds the RoPE table ({})", op, seq,
            table.max_positions);
  OSP_CHECK(x.cols() % (2 * table.half) == 0, "ops::{}: {} columns are not whole heads of {}", op, x.cols(),
            2 * table.half);
}
}  // namespace

void rope_forward(Context& ctx, TensorView x, const RopeTable& table, int64_t seq) {
  check(ctx, x, table, seq, "rope_forward");
  OSP_DISPATCH(ctx, rope_rotate, ctx, x, table, seq, false);
}

void rope_backward(Context& ctx, TensorView dx, const RopeTable& table, int64_t seq) {
  check(ctx, dx, table, seq, "rope_backward");
  OSP_DISPATCH(ctx, rope_rotate, ctx, dx, table, seq, true);
}

}  // namespace osp::ops
