// CPU softmax cross-entropy, forward (NLL and log-sum-exp) and backward.
#include "ops/cross_entropy.h"
#include "ops/cpu/vec_math.h"

#include <cmath>
#include <limits>

#include "core/check.h"

namespace osp::ops {

using cpu::fast_exp;

template <class T>
double cross_entropy_forward(double* nll, T* lse, const T* logits, const int32_t* targets,
                             int64_t n, int64_t vocab) {
  for (int64_t i = 0; i < n; ++i)
    OSP_CHECK(targets[i] == kIgnoreIndex || (targets[i] >= 0 && targets[i] < vocab),
              "target id {} at {} outside vocab {}", targets[i], i, vocab);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T* row = logits + i * vocab;
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
  // Summed in row order, not by an OpenMP reduction, so the loss is bit-reproducible.
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) total += nll[i];
  return total;
}

template <class T>
void cross_entropy_backward(T* dlogits, const T* logits, const T* lse, const int32_t* targets,
                            int64_t n, int64_t vocab, T scale) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T* row = logits + i * vocab;
    T* drow = dlogits + i * vocab;
    if (targets[i] == kIgnoreIndex) {
      for (int64_t j = 0; j < vocab; ++j) drow[j] = 0;
      continue;
    }
    const T l = lse[i];
#pragma omp simd
    for (int64_t j = 0; j < vocab; ++j) drow[j] = scale * fast_exp(row[j] - l);
    drow[targets[i]] -= scale;
  }
}

template double cross_entropy_forward<float>(double*, float*, const float*, const int32_t*, int64_t,
                                             int64_t);
template double cross_entropy_forward<double>(double*, double*, const double*, const int32_t*,
                                              int64_t, int64_t);
template void cross_entropy_backward<float>(float*, const float*, const float*, const int32_t*,
                                            int64_t, int64_t, float);
template void cross_entropy_backward<double>(double*, const double*, const double*, const int32_t*,
                                             int64_t, int64_t, double);

}  // namespace osp::ops
