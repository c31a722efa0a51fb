// Causal multi-head self-attention with grouped-query heads (osp-method.md §1.4), on RoPE'd q, k.
// Query head a reads kv head a / (H / Hkv). Scores are scaled by 1/sqrt(Dh); softmax in the
// compute type. Shapes: q, out (b, t, H·Dh); k, v (b, t, Hkv·Dh); probs (b, H, t, t).
#pragma once
#include <cstdint>

namespace osp::ops {

struct AttentionShape {
  int64_t batch, seq, heads, kv_heads, head_dim;
};

// Scratch elements the caller provides to forward (when probs is null) and backward.
int64_t attention_workspace_elems(const AttentionShape& s);

// out = softmax(q·kᵀ/√Dh + causal mask) · v. probs, when not null, keeps the probabilities for
// backward (entries above the diagonal are left unspecified); otherwise workspace is used.
template <class T>
void attention_forward(T* out, T* probs, const T* q, const T* k, const T* v, T* workspace,
                       const AttentionShape& s);

// Overwrites dq, dk, dv from dout, using the forward's out and probs.
template <class T>
void attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* out, const T* probs,
                        const T* q, const T* k, const T* v, T* workspace, const AttentionShape& s);

}  // namespace osp::ops
