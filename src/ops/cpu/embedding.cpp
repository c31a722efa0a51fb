// CPU embedding lookup and its scatter-add gradient.
#include "ops/embedding.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "core/check.h"

namespace osp::ops {

template <class T>
void embedding_forward(T* out, const int32_t* tokens, const T* table, int64_t n, int64_t d,
                       int64_t vocab) {
  for (int64_t i = 0; i < n; ++i)
    OSP_CHECK(tokens[i] >= 0 && tokens[i] < vocab, "token id {} at {} outside vocab {}", tokens[i],
              i, vocab);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(out + i * d, table + int64_t(tokens[i]) * d, sizeof(T) * size_t(d));
}

template <class T>
void embedding_backward(T* dtable, const T* dout, const int32_t* tokens, int64_t n, int64_t d) {
  // Threads own disjoint column ranges, so repeated tokens never race.
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t lo = d * t / threads, hi = d * (t + 1) / threads;
    for (int64_t i = 0; i < n; ++i) {
      T* row = dtable + int64_t(tokens[i]) * d;
      const T* g = dout + i * d;
      for (int64_t j = lo; j < hi; ++j) row[j] += g[j];
    }
  }
}

template void embedding_forward<float>(float*, const int32_t*, const float*, int64_t, int64_t, int64_t);
template void embedding_forward<double>(double*, const int32_t*, const double*, int64_t, int64_t,
                                        int64_t);
template void embedding_backward<float>(float*, const float*, const int32_t*, int64_t, int64_t);
template void embedding_backward<double>(double*, const double*, const int32_t*, int64_t, int64_t);

}  // namespace osp::ops
