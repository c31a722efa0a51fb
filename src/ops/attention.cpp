// Attention entries.
#include "ops/attention.h"

#include <algorithm>

#include "ops/dispatch.h"

namespace osp::ops {
namespace {

void expect_qkv(Context& ctx, const TensorView& q, const TensorView& k, const TensorView& v, const AttentionShape& s,
                const char* op) {
  OSP_CHECK(s.kv_heads > 0 && s.heads % s.kv_heads == 0, "ops::{}: heads {} not a multiple of kv heads {}", op,
            s.heads, s.kv_heads);
  OSP_CHECK(s.past >= 0, "ops::{}: negative past {}", op, s.past);
  const int64_t n = s.batch * s.seq, kv = s.batch * s.kv_len();
  for (const TensorView* x : {&q, &k, &v}) {
    detail::expect_on(ctx, *x, op, "q/k/v");
    detail::expect_same_dtype(*x, q, op);
    detail::expect_contiguous(*x, op, "q/k/v");  // the kernel's head strides are H·Dh and Hkv·Dh
  }
  detail::expect_dtype(q, {DType::kF32, DType::kF64}, op, "q");
  detail::expect_matrix(q, n, s.heads * s.head_dim, op, "q");
  detail::expect_matrix(k, kv, s.kv_heads * s.head_dim, op, "k");
  detail::expect_matrix(v, kv, s.kv_heads * s.head_dim, op, "v");
}

}  // namespace

int64_t attention_workspace_per_thread(const AttentionShape& s) {
  // The CPU kernel's 64-row blocks: scores (or dS) of one block, and one block of output rows.
  constexpr int64_t kRowBlock = 64;
  return std::min(s.seq, kRowBlock) * s.kv_len() + kRowBlock * s.head_dim;
}

int64_t attention_workspace_elems(const Context& ctx, const AttentionShape& s) {
  return int64_t(ctx.threads()) * attention_workspace_per_thread(s);
}

void attention_forward(Context& ctx, TensorView out, TensorView probs, TensorView q, TensorView k, TensorView v,
                       TensorView workspace, const AttentionShape& s) {
  const char* op = "attention_forward";
  expect_qkv(ctx, q, k, v, s, op);
  detail::expect_on(ctx, out, op, "out");
  detail::expect_matrix(out, s.batch * s.seq, s.heads * s.head_dim, op, "out");
  detail::expect_contiguous(out, op, "out");
  if (out.dtype() != DType::kBF16) detail::expect_same_dtype(out, q, op);
  if (!probs.empty()) {
    detail::expect_numel(probs, s.batch * s.heads * s.seq * s.kv_len(), op, "probs");
    detail::expect_same_dtype(probs, q, op);
  }
  // Per-thread scratch for the context's current thread count (a plan made with fewer threads
  // than run now is refused here rather than overrun).
  OSP_CHECK(workspace.numel() >= attention_workspace_elems(ctx, s), "ops::{}: workspace of {} for {} needed", op,
            workspace.numel(), attention_workspace_elems(ctx, s));
  detail::expect_same_dtype(workspace, q, op);
  OSP_DISPATCH(ctx, attention_forward, ctx, out, probs, q, k, v, workspace, s);
}

void attention_backward(Context& ctx, TensorView dq, TensorView dk, TensorView dv, TensorView dout, TensorView probs,
                        TensorView q, TensorView k, TensorView v, TensorView workspace, const AttentionShape& s) {
  const char* op = "attention_backward";
  OSP_CHECK(s.past == 0, "ops::{}: no backward through cached keys (past {})", op, s.past);
  expect_qkv(ctx, q, k, v, s, op);
  expect_qkv(ctx, dq, dk, dv, s, op);
  detail::expect_same_dtype(dq, q, op);
  detail::expect_on(ctx, dout, op, "dout");
  detail::expect_same_dtype(dout, q, op);
  detail::expect_contiguous(dout, op, "dout");
  detail::expect_matrix(dout, s.batch * s.seq, s.heads * s.head_dim, op, "dout");
  detail::expect_numel(probs, s.batch * s.heads * s.seq * s.seq, op, "probs");
  detail::expect_same_dtype(probs, q, op);
  OSP_CHECK(workspace.numel() >= attention_workspace_elems(ctx, s), "ops::{}: workspace too small", op);
  detail::expect_same_dtype(workspace, q, op);
  OSP_DISPATCH(ctx, attention_backward, ctx, dq, dk, dv, dout, probs, q, k, v, workspace, s);
}

}  // namespace osp::ops
