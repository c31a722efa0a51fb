// CPU copy, zero, cast, scale and the reproducible sum of squares.
#include <algorithm>
#include <cstring>
#include <vector>

#include "ops/cpu/backend.h"
#include "ops/cpu/typed.h"

namespace osp::ops::cpu {
namespace {

template <class D, class S>
void convert(D* dst, const S* src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<S, BFloat16>) dst[i] = store_as<D>(to_float(src[i]));
    else dst[i] = store_as<D>(src[i]);
  }
}

template <class F>
void with_any(DType d, F&& f) {
  switch (d) {
    case DType::kF32: f(float{}); return;
    case DType::kF64: f(double{}); return;
    case DType::kBF16: f(BFloat16{}); return;
    default: OSP_CHECK(false, "ops::cast: no CPU kernel for {}", dtype_name(d));
  }
}

}  // namespace

void copy(Context&, TensorView dst, TensorView src) {
  const int64_t rows = src.rows(), bytes = src.cols() * int64_t(dtype_size(src.dtype()));
  if (dst.contiguous() && src.contiguous()) {
    std::memcpy(dst.raw(), src.raw(), size_t(rows * bytes));
    return;
  }
  const int64_t esz = int64_t(dtype_size(src.dtype()));
#pragma omp parallel for schedule(static) if (rows * bytes > (1 << 20))
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(static_cast<std::byte*>(dst.raw()) + r * dst.ld() * esz,
                static_cast<const std::byte*>(src.raw()) + r * src.ld() * esz, size_t(bytes));
}

void zero(Context&, TensorView dst) {
  const int64_t esz = int64_t(dtype_size(dst.dtype())), bytes = dst.cols() * esz;
  if (dst.contiguous()) {
    std::memset(dst.raw(), 0, size_t(dst.numel() * esz));
    return;
  }
  for (int64_t r = 0; r < dst.rows(); ++r)
    std::memset(static_cast<std::byte*>(dst.raw()) + r * dst.ld() * esz, 0, size_t(bytes));
}

void cast(Context&, TensorView dst, TensorView src) {
  with_any(dst.dtype(), [&](auto dv) {
    with_any(src.dtype(), [&](auto sv) {
      using D = decltype(dv);
      using S = decltype(sv);
      convert(static_cast<D*>(dst.raw()), static_cast<const S*>(src.raw()), src.numel());
    });
  });
}

void scale(Context&, TensorView x, double alpha) {
  with_float(x.dtype(), "scale", [&](auto tv) {
    using T = decltype(tv);
    T* p = x.data<T>();
    const T k = T(alpha);
    const int64_t n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) p[i] *= k;
  });
}

double sum_squares(Context&, TensorView x) {
  double total = 0;
  with_float(x.dtype(), "sum_squares", [&](auto tv) {
    using T = decltype(tv);
    // Fixed chunks summed in order: the result does not depend on the thread count.
    constexpr int64_t kChunk = 4096;
    const T* p = x.data<T>();
    const int64_t n = x.numel(), chunks = (n + kChunk - 1) / kChunk;
    std::vector<double> part(size_t(chunks), 0.0);
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      double s = 0;
      for (int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) s += double(p[i]) * double(p[i]);
      part[size_t(c)] = s;
    }
    for (double s : part) total += s;
  });
  return total;
}

}  // namespace osp::ops::cpu
