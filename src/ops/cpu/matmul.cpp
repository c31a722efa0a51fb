// CPU linear layers: all work is in BLAS (see gemm.h).
#include "ops/matmul.h"

#include "ops/cpu/gemm.h"

namespace osp::ops {

template <class T>
void matmul_forward(T* y, const T* x, const T* w, int64_t n, int64_t in, int64_t out,
                    bool accumulate) {
  cpu::gemm(false, true, n, out, in, T(1), x, in, w, in, accumulate ? T(1) : T(0), y, out);
}

template <class T>
void matmul_backward(T* dx, T* dw, const T* dy, const T* x, const T* w, int64_t n, int64_t in,
                     int64_t out, bool accumulate_dx) {
  if (dx != nullptr)  // dx (n, in) = dy (n, out) · w (out, in)
    cpu::gemm(false, false, n, in, out, T(1), dy, out, w, in, accumulate_dx ? T(1) : T(0), dx, in);
  if (dw != nullptr)  // dw (out, in) += dyᵀ (out, n) · x (n, in)
    cpu::gemm(true, false, out, in, n, T(1), dy, out, x, in, T(1), dw, in);
}

template void matmul_forward<float>(float*, const float*, const float*, int64_t, int64_t, int64_t, bool);
template void matmul_forward<double>(double*, const double*, const double*, int64_t, int64_t, int64_t, bool);
template void matmul_backward<float>(float*, float*, const float*, const float*, const float*, int64_t,
                                     int64_t, int64_t, bool);
template void matmul_backward<double>(double*, double*, const double*, const double*, const double*,
                                      int64_t, int64_t, int64_t, bool);

}  // namespace osp::ops
