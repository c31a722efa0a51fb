// CPU softmax cross-entropy, forward (NLL and log-sum-exp) and backward.
#include <cmath>
#include <limits>

#include "ops/cpu/backend.h"
#include "ops/cpu/typed.h"
#include "ops/cpu/vec_math.h"
#include "ops/cross_entropy.h"

namespace osp::ops::cpu {

double cross_entropy_forward(Context&, TensorView nll_view, TensorView lse_view, TensorView logits,
                             TensorView targets_view) {
  const int32_t* targets = targets_view.data<int32_t>();
  double* nll = nll_view.data<double>();
  const int64_t n = logits.rows(), vocab = logits.cols();
  for (int64_t i = 0; i < n; ++i)
    OSP_CHECK(targets[i] == kIgnoreIndex || (targets[i] >= 0 && targets[i] < vocab),
              "target id {} at {} outside vocab {}", targets[i], i, vocab);
  with_float(logits.dtype(), "cross_entropy_forward", [&](auto tv) {
    using T = decltype(tv);
    T* lse = lse_view.empty() ? nullptr : lse_view.data<T>();
    const T* base = logits.data<T>();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const T* row = base + i * logits.ld();
      T mx = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : mx)
      for (int64_t j = 0; j < vocab; ++j) mx = std::max(mx, row[j]);
      T sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < vocab; ++j) sum += fast_exp(row[j] - mx);
      const T l = mx + std::log(sum);
      if (lse != nullptr) lse[i] = l;
      nll[i] = targets[i] == kIgnoreIndex ? 0.0 : double(l) - double(row[targets[i]]);
    }
  });
  // Summed in row order, not by an OpenMP reduction, so the loss is bit-reproducible.
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) total += nll[i];
  return total;
}

void cross_entropy_backward(Context&, TensorView dlogits, TensorView logits, TensorView lse_view,
                            TensorView targets_view, double scale) {
  const int32_t* targets = targets_view.data<int32_t>();
  const int64_t n = logits.rows(), vocab = logits.cols();
  with_float(logits.dtype(), "cross_entropy_backward", [&](auto tv) {
    using T = decltype(tv);
    const T* lse = lse_view.data<T>();
    const T* base = logits.data<T>();
    T* dbase = dlogits.data<T>();
    const T k = T(scale);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const T* row = base + i * logits.ld();
      T* drow = dbase + i * dlogits.ld();
      if (targets[i] == kIgnoreIndex) {
        for (int64_t j = 0; j < vocab; ++j) drow[j] = 0;
        continue;
      }
      const T l = lse[i];
#pragma omp simd
      for (int64_t j = 0; j < vocab; ++j) drow[j] = k * fast_exp(row[j] - l);
      drow[targets[i]] -= k;
    }
  });
}

}  // namespace osp::ops::cpu
