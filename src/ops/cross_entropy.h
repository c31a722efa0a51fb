// Softmax cross-entropy over the vocabulary with an ignore index (osp-method.md §1.8). Logits,
// log-sum-exp and the loss are fp32 (or f64) under every precision policy.
// Loss = Σ NLL over counted targets / their count; callers pass scale = 1 / count to backward.
#pragma once
#include <cstdint>

#include "ops/context.h"

namespace osp::ops {

inline constexpr int32_t kIgnoreIndex = -100;

// For each row i of logits (n, vocab): nll[i] = logsumexp(row) − row[target] (0 for ignored
// rows; nll is a host f64 view of n), lse[i] = logsumexp(row) (for backward; may be empty).
// Returns Σ nll over counted rows, summed in row order (bit-reproducible).
// targets (n, i32) must be in [0, vocab) or kIgnoreIndex (checked).
double cross_entropy_forward(Context& ctx, TensorView nll, TensorView lse, TensorView logits, TensorView targets);

// dlogits (n, vocab) = scale · (softmax(row) − onehot(target)); zero for ignored rows.
// dlogits may alias logits (computed in place).
void cross_entropy_backward(Context& ctx, TensorView dlogits, TensorView logits, TensorView lse,
                            TensorView targets, double scale);

}  // namespace osp::ops
