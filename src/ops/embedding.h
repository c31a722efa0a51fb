// Token embedding lookup: out[i] = table[tokens[i]], and its scatter-add gradient.
#pragma once
#include "ops/context.h"

namespace osp::ops {

// out (n, d) = rows of table (vocab, d) at tokens (n, i32). Token ids must be < vocab (checked).
// table f32 or f64; out the same, or bf16.
void embedding_forward(Context& ctx, TensorView out, TensorView tokens, TensorView table);

// dtable (vocab, d) += scatter of dout (n, d) by tokens.
void embedding_backward(Context& ctx, TensorView dtable, TensorView dout, TensorView tokens);

}  // namespace osp::ops
