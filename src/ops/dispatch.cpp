// View checks shared by the op entries.
#include "ops/dispatch.h"

#include <fmt/format.h>

namespace osp::ops::detail {

void expect_on(const Context& ctx, const TensorView& v, const char* op, const char* name) {
  OSP_CHECK(!v.empty() || v.numel() == 0, "ops::{}: {} is empty", op, name);
  OSP_CHECK(v.device() == ctx.device(), "ops::{}: {} is on {}, the context on {}", op, name,
            device_name(v.device()), device_name(ctx.device()));
}

void expect_matrix(const TensorView& v, int64_t rows, int64_t cols, const char* op, const char* name) {
  OSP_CHECK(v.rows() == rows && v.cols() == cols, "ops::{}: {} is {}, expected ({}, {})", op, name,
            v.describe(), rows, cols);
}

void expect_numel(const TensorView& v, int64_t n, const char* op, const char* name) {
  OSP_CHECK(v.numel() == n, "ops::{}: {} is {}, expected {} elements", op, name, v.describe(), n);
}

void expect_dtype(const TensorView& v, std::initializer_list<DType> allowed, const char* op, const char* name) {
  for (DType d : allowed)
    if (v.dtype() == d) return;
  OSP_CHECK(false, "ops::{}: {} has dtype {}, which this op does not take", op, name, dtype_name(v.dtype()));
}

void expect_same_dtype(const TensorView& a, const TensorView& b, const char* op) {
  OSP_CHECK(a.dtype() == b.dtype(), "ops::{}: operands of dtypes {} and {}", op, dtype_name(a.dtype()),
            dtype_name(b.dtype()));
}

void expect_contiguous(const TensorView& v, const char* op, const char* name) {
  OSP_CHECK(v.contiguous(), "ops::{}: {} ({}) must be contiguous", op, name, v.describe());
}

}  // namespace osp::ops::detail
