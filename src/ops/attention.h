// Causal multi-head self-attention with grouped-query heads (osp-method.md §1.4), on RoPE'd q, k.
// Query head a reads kv head a / (H / Hkv). Scores are scaled by 1/sqrt(Dh); softmax in fp32 (or
// f64). Shapes, with S = past + T key/value rows per sequence: q, out (B·T, H·Dh); k, v
// (B·S, Hkv·Dh); probs (B·H·T, S). past > 0 is incremental decoding over a KV cache: the T
// queries of a sequence sit at positions past..past+T−1 and query i sees keys 0..past+i.
#pragma once
#include <cstdint>

#include "ops/context.h"

namespace osp::ops {

struct AttentionShape {
  int64_t batch, seq, heads, kv_heads, head_dim;
  int64_t past = 0;  // cached key/value rows before the seq new ones (forward only)
  int64_t kv_len() const { return past + seq; }
};

// Scratch elements the caller provides to forward (when probs is empty) and backward:
// per thread, one row block of scores (min(T, 64) × S) and one 64-row output block.
int64_t attention_workspace_elems(const Context& ctx, const AttentionShape& s);
int64_t attention_workspace_per_thread(const AttentionShape& s);

// out = softmax(q·kᵀ/√Dh + causal mask) · v. probs, when not empty, keeps the probabilities for
// backward (entries above the diagonal are left unspecified); otherwise workspace is used.
// q, k, v, probs, workspace: one dtype (f32 or f64); out: the same or bf16.
void attention_forward(Context& ctx, TensorView out, TensorView probs, TensorView q, TensorView k,
                       TensorView v, TensorView workspace, const AttentionShape& s);

// Overwrites dq, dk, dv from dout and the forward's probs (the row terms rowdot(dO, O) are
// recomputed as Σ_j P·dP, so the forward's output is not needed). All one dtype; past = 0.
void attention_backward(Context& ctx, TensorView dq, TensorView dk, TensorView dv, TensorView dout,
                        TensorView probs, TensorView q, TensorView k, TensorView v, TensorView workspace,
                        const AttentionShape& s);

}  // namespace osp::ops
