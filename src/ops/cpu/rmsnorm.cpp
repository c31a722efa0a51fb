// CPU RMSNorm / SSNorm, forward and backward; one row per OpenMP iteration.
#include <omp.h>

#include <cmath>
#include <vector>

#include "ops/cpu/backend.h"
#include "ops/cpu/typed.h"

namespace osp::ops::cpu {
namespace {

template <class T, class O>
void forward(O* y, int64_t ldy, T* rstd, const T* x, int64_t ldx, const T* gain, int64_t n, int64_t d, float eps,
             bool single_scale) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T* xi = x + i * ldx;
    O* yi = y + i * ldy;
    T ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < d; ++j) ss += xi[j] * xi[j];
    // eps inside the root, added to the mean of squares (spec §1.3).
    const T r = T(1) / std::sqrt(ss / T(d) + T(eps));
    if (rstd != nullptr) rstd[i] = r;
    if (single_scale) {
      const T g = gain[0];
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) yi[j] = store_as<O>((xi[j] * r) * g);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) yi[j] = store_as<O>((xi[j] * r) * gain[j]);
    }
  }
}

template <class T>
void backward(T* dx, T* dgain, const T* dy, const T* x, const T* rstd, const T* gain, int64_t n, int64_t d,
              bool single_scale) {
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
    for (int64_t j = 0; j < gain_size; ++j) dgain[j] += partial[size_t(t * gain_size + j)];
}

}  // namespace

void rmsnorm_forward(Context&, TensorView y, TensorView rstd, TensorView x, TensorView gain, float eps) {
  with_float_out(x.dtype(), y.dtype(), "rmsnorm_forward", [&](auto tv, auto ov) {
    using T = decltype(tv);
    using O = decltype(ov);
    forward(y.data<O>(), y.ld(), rstd.empty() ? nullptr : rstd.data<T>(), x.data<T>(), x.ld(), gain.data<T>(),
            x.rows(), x.cols(), eps, gain.rank() == 0);
  });
}

void rmsnorm_backward(Context&, TensorView dx, TensorView dgain, TensorView dy, TensorView x, TensorView rstd,
                      TensorView gain) {
  for (const TensorView* v : {&dx, &dy, &x}) OSP_CHECK(v->contiguous(), "ops::rmsnorm_backward: strided operand");
  with_float(x.dtype(), "rmsnorm_backward", [&](auto tv) {
    using T = decltype(tv);
    backward(dx.data<T>(), dgain.data<T>(), dy.data<T>(), x.data<T>(), rstd.data<T>(), gain.data<T>(), x.rows(),
             x.cols(), gain.rank() == 0);
  });
}

}  // namespace osp::ops::cpu
