// Model FLOPs of a training step, for tokens/s → MFU. Counts 6 FLOPs per matmul weight per token
// (forward 2, backward 4) and causal attention's score and value products (on average t/2 keys:
// 2·2·(t/2)·Dh per head forward, twice that backward). Embedding lookups and elementwise work
// are not counted, as in the usual MFU convention.
#pragma once
#include "model/config.h"

namespace osp::model {

inline double training_flops_per_token(const ModelConfig& c, int64_t seq) {
  const double d = double(c.hidden), qd = double(c.heads * c.head_dim()), kvd = double(c.kv_heads * c.head_dim());
  double weights = double(c.layers) * (2 * d * qd + 2 * d * kvd + 3 * d * double(c.ffn)) + double(c.vocab) * d;
  if (c.emb_proj) weights += 2 * d * d;
  return 6 * weights + 6 * double(c.layers) * double(seq) * qd;
}

// The forward alone (evaluation): a third of the training step's count.
inline double forward_flops_per_token(const ModelConfig& c, int64_t seq) { return training_flops_per_token(c, seq) / 3; }

}  // namespace osp::model
