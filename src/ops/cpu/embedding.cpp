// CPU embedding lookup and its scatter-add gradient.
#include <omp.h>

#include "ops/cpu/backend.h"
#include "ops/cpu/typed.h"

namespace osp::ops::cpu {

void embedding_forward(Context&, TensorView out, TensorView tokens, TensorView table) {
  const int32_t* tok = tokens.data<int32_t>();
  const int64_t n = tokens.numel(), d = table.cols(), vocab = table.rows();
  for (int64_t i = 0; i < n; ++i)
    OSP_CHECK(tok[i] >= 0 && tok[i] < vocab, "token id {} at {} outside vocab {}", tok[i], i, vocab);
  with_float_out(table.dtype(), out.dtype(), "embedding_forward", [&](auto tv, auto ov) {
    using T = decltype(tv);
    using O = decltype(ov);
    const T* tab = table.data<T>();
    O* o = out.data<O>();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const T* src = tab + int64_t(tok[i]) * table.ld();
      O* dst = o + i * out.ld();
      for (int64_t j = 0; j < d; ++j) dst[j] = store_as<O>(src[j]);
    }
  });
}

void embedding_backward(Context&, TensorView dtable, TensorView dout, TensorView tokens) {
  const int32_t* tok = tokens.data<int32_t>();
  const int64_t n = tokens.numel(), d = dtable.cols();
  with_float(dtable.dtype(), "embedding_backward", [&](auto tv) {
    using T = decltype(tv);
    T* tab = dtable.data<T>();
    const T* g0 = dout.data<T>();
    // Threads own disjoint column ranges, so repeated tokens never race.
#pragma omp parallel
    {
      const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
      const int64_t lo = d * t / threads, hi = d * (t + 1) / threads;
      for (int64_t i = 0; i < n; ++i) {
        T* row = tab + int64_t(tok[i]) * dtable.ld();
        const T* g = g0 + i * dout.ld();
        for (int64_t j = lo; j < hi; ++j) row[j] += g[j];
      }
    }
  });
}

}  // namespace osp::ops::cpu
