// CPU RMSNorm / SSNorm, forward and backward; one row per OpenMP iteration.
#include "ops/rmsnorm.h"

#include <omp.h>

#include <cmath>
#include <vector>

namespace osp::ops {

template <class T>
void rmsnorm_forward(T* y, T* rstd, const T* x, const T* gain, int64_t n, int64_t d, float eps,
                     bool single_scale) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T* xi = x + i * d;
    T* yi = y + i * d;
    T ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < d; ++j) ss += xi[j] * xi[j];
    // eps inside the root, added to the mean of squares (spec §1.3).
    const T r = T(1) / std::sqrt(ss / T(d) + T(eps));
    if (rstd != nullptr) rstd[i] = r;
    if (single_scale) {
      const T g = gain[0];
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) yi[j] = (xi[j] * r) * g;
    } else {
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) yi[j] = (xi[j] * r) * gain[j];
    }
  }
}

template <class T>
void rmsnorm_backward(T* dx, T* dgain, const T* dy, const T* x, const T* rstd, const T* gain,
                      int64_t n, int64_t d, bool single_scale) {
  const int64_t gain_size = single_scale ? 1 : d;
  const int threads = omp_get_max_threads();
  // Per-thread partial gain gradients, summed at the end (no atomics in the row loop).
  std::vector<T> partial(static_cast<size_t>(threads * gain_size), T(0));
#pragma omp parallel
  {
    T* dg = partial.data() + omp_get_thread_num() * gain_size;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const T* xi = x + i * d;
      const T* dyi = dy + i * d;
      T* dxi = dx + i * d;
      const T r = rstd[i];
      // With ĝ_j = dy_j·g_j: dx_j = r·ĝ_j − x_j·r³·mean_k(ĝ_k·x_k).
      T dot = 0;
      if (single_scale) {
        const T g = gain[0];
        T sg = 0;
#pragma omp simd reduction(+ : dot, sg)
        for (int64_t j = 0; j < d; ++j) {
          dot += dyi[j] * g * xi[j];
          sg += dyi[j] * xi[j];
        }
        dg[0] += sg * r;
        const T c = r * r * r * dot / T(d);
#pragma omp simd
        for (int64_t j = 0; j < d; ++j) dxi[j] += r * dyi[j] * g - xi[j] * c;
      } else {
#pragma omp simd reduction(+ : dot)
        for (int64_t j = 0; j < d; ++j) dot += dyi[j] * gain[j] * xi[j];
        const T c = r * r * r * dot / T(d);
#pragma omp simd
        for (int64_t j = 0; j < d; ++j) {
          dxi[j] += r * dyi[j] * gain[j] - xi[j] * c;
          dg[j] += dyi[j] * xi[j] * r;
        }
      }
    }
  }
  for (int t = 0; t < threads; ++t)
    for (int64_t j = 0; j < gain_size; ++j) dgain[j] += partial[t * gain_size + j];
}

template void rmsnorm_forward<float>(float*, float*, const float*, const float*, int64_t, int64_t,
                                     float, bool);
template void rmsnorm_forward<double>(double*, double*, const double*, const double*, int64_t,
                                      int64_t, float, bool);
template void rmsnorm_backward<float>(float*, float*, const float*, const float*, const float*,
                                      const float*, int64_t, int64_t, bool);
template void rmsnorm_backward<double>(double*, double*, const double*, const double*,
                                       const double*, const double*, int64_t, int64_t, bool);

}  // namespace osp::ops
