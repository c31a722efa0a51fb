// What every op entry (ops/<op>.cpp) does before it runs: check its views (device, dtype, shape)
// and hand them to the backend of the context's device. The CPU backend is ops/cpu/backend.h; a
// CUDA backend adds a case here and a twin of that header.
#pragma once
#include <initializer_list>

#include "ops/context.h"
#include "ops/cpu/backend.h"

namespace osp::ops::detail {

// The view is non-empty and lives on the context's device.
void expect_on(const Context& ctx, const TensorView& v, const char* op, const char* name);
// The view has this (rows, cols) shape as a matrix.
void expect_matrix(const TensorView& v, int64_t rows, int64_t cols, const char* op, const char* name);
void expect_numel(const TensorView& v, int64_t n, const char* op, const char* name);
// The view's dtype is one of `allowed`.
void expect_dtype(const TensorView& v, std::initializer_list<DType> allowed, const char* op, const char* name);
void expect_same_dtype(const TensorView& a, const TensorView& b, const char* op);
void expect_contiguous(const TensorView& v, const char* op, const char* name);

}  // namespace osp::ops::detail

// Runs backend::op(args...) for the context's device (ops without a result).
#define OSP_DISPATCH(ctx, op, ...)                             \
  do {                                                         \
    switch ((ctx).device()) {                                  \
      case ::osp::Device::kCpu: ::osp::ops::cpu::op(__VA_ARGS__); return; \
      case ::osp::Device::kCuda: break;                        \
    }                                                          \
    ::osp::ops::no_kernel(#op, (ctx).device());                \
  } while (0)

// The same for ops that return a value.
#define OSP_DISPATCH_RETURN(ctx, op, ...)                            \
  do {                                                               \
    switch ((ctx).device()) {                                        \
      case ::osp::Device::kCpu: return ::osp::ops::cpu::op(__VA_ARGS__); \
      case ::osp::Device::kCuda: break;                              \
    }                                                                \
    ::osp::ops::no_kernel(#op, (ctx).device());                      \
  } while (0)
