// Softmax cross-entropy over the vocabulary with an ignore index (osp-method.md §1.8).
// Loss = Σ NLL over counted targets / their count; callers pass scale = 1 / count to backward.
#pragma once
#include <cstdint>

namespace osp::ops {

inline constexpr int32_t kIgnoreIndex = -100;

// For each row i of logits (n, vocab): nll[i] = logsumexp(row) − row[target] (0 for ignored
// rows), lse[i] = logsumexp(row) (for backward; may be null). Returns Σ nll over counted rows,
// summed in row order (bit-reproducible).
// Target ids must be in [0, vocab) or kIgnoreIndex (checked).
template <class T>
double cross_entropy_forward(double* nll, T* lse, const T* logits, const int32_t* targets,
                             int64_t n, int64_t vocab);

// dlogits (n, vocab) = scale · (softmax(row) − onehot(target)); zero for ignored rows.
// dlogits may alias logits (computed in place).
template <class T>
void cross_entropy_backward(T* dlogits, const T* logits, const T* lse, const int32_t* targets,
                            int64_t n, int64_t vocab, T scale);

}  // namespace osp::ops
