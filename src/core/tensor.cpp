// TensorView shape arithmetic and Tensor allocation.
#include "core/tensor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace osp {

TensorView::TensorView(void* data, DType dtype, std::span<const int64_t> shape, Device device)
    : data_(data), dtype_(dtype), device_(device), rank_(int(shape.size())) {
  OSP_CHECK(shape.size() <= size_t(kMaxRank), "rank {} exceeds {}", shape.size(), kMaxRank);
  for (size_t i = 0; i < shape.size(); ++i) {
    OSP_CHECK(shape[i] >= 0, "negative dimension {}", shape[i]);
    dims_[i] = shape[i];
  }
  ld_ = cols();
}

int64_t TensorView::numel() const {
  if (rank_ == 0) return data_ == nullptr ? 0 : 1;  // an empty view holds nothing; a scalar one
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[size_t(i)];
  return n;
}

int64_t TensorView::rows() const {
  int64_t n = 1;
  for (int i = 0; i + 1 < rank_; ++i) n *= dims_[size_t(i)];
  return n;
}

TensorView TensorView::row_block(int64_t begin, int64_t count) const {
  OSP_CHECK(begin >= 0 && count >= 0 && begin + count <= rows(), "rows [{}, {}) of {}", begin,
            begin + count, describe());
  TensorView v = *this;
  v.data_ = static_cast<std::byte*>(data_) + begin * ld_ * int64_t(dtype_size(dtype_));
  v.rank_ = 2;
  v.dims_ = {count, cols(), 0, 0};
  return v;
}

TensorView TensorView::col_block(int64_t begin, int64_t count) const {
  OSP_CHECK(begin >= 0 && count >= 0 && begin + count <= cols(), "columns [{}, {}) of {}", begin,
            begin + count, describe());
  TensorView v = *this;
  v.data_ = static_cast<std::byte*>(data_) + begin * int64_t(dtype_size(dtype_));
  v.rank_ = 2;
  v.dims_ = {rows(), count, 0, 0};
  return v;
}

TensorView TensorView::reshaped(std::initializer_list<int64_t> shape) const {
  const TensorView v = prefix(shape);
  OSP_CHECK(v.numel() == numel(), "reshape of {} to {} elements", describe(), v.numel());
  return v;
}

TensorView TensorView::prefix(std::initializer_list<int64_t> shape) const {
  OSP_CHECK(contiguous(), "prefix of a strided view {}", describe());
  TensorView v(data_, dtype_, std::span<const int64_t>(shape.begin(), shape.size()), device_);
  OSP_CHECK(v.numel() <= numel(), "prefix of {} elements from {}", v.numel(), describe());
  return v;
}

TensorView TensorView::as_matrix() const {
  TensorView v = *this;
  v.dims_ = {rows(), cols(), 0, 0};
  v.rank_ = 2;
  return v;
}

std::string TensorView::describe() const {
  return fmt::format("{}[{}] on {}", dtype_name(dtype_), fmt::join(shape(), ", "), device_name(device_));
}

Tensor::Tensor(DType dtype, std::initializer_list<int64_t> shape, Device device)
    : Tensor(dtype, std::span<const int64_t>(shape.begin(), shape.size()), device) {}

Tensor::Tensor(DType dtype, std::span<const int64_t> shape, Device device) {
  OSP_CHECK(device == Device::kCpu, "this build allocates tensors on the CPU only");
  int64_t n = 1;  // a rank-0 tensor is one scalar
  for (int64_t d : shape) n *= d;
  storage_ = AlignedBuffer<std::byte>(std::max<int64_t>(n, 1) * int64_t(dtype_size(dtype)));
  view_ = TensorView(storage_.data(), dtype, shape, device);
}

}  // namespace osp
