// Token embedding lookup: out[i] = table[tokens[i]].
#pragma once
#include <cstdint>

namespace osp::ops {

// out (n, d) = table (vocab, d) rows at tokens (n). Token ids must be < vocab (checked).
template <class T>
void embedding_forward(T* out, const int32_t* tokens, const T* table, int64_t n, int64_t d,
                       int64_t vocab);

// dtable (vocab, d) += scatter of dout (n, d) by tokens.
template <class T>
void embedding_backward(T* dtable, const T* dout, const int32_t* tokens, int64_t n, int64_t d);

}  // namespace osp::ops
