// Buffers that know where they live and what they hold: TensorView (non-owning: data, dtype,
// device, shape, row stride) and Tensor (owning, zero-initialised, 64-byte aligned). Every op
// takes views and checks them; only the model, optimizer and trainer own memory
// (../shared/design/ARCHITECTURE.md, Memory and tensors).
//
// Shapes are row-major with up to kMaxRank dimensions. A view's "rows" are all dimensions but the
// last, its "cols" the last; ld() is the distance between rows in elements, equal to cols() for a
// contiguous view and larger for a column block of a wider matrix (a head's slice of q, say).
// Views do not track constness: an op's outputs come first in its argument list.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "core/aligned_buffer.h"
#include "core/check.h"
#include "core/dtype.h"

namespace osp {

enum class Device { kCpu, kCuda };

constexpr std::string_view device_name(Device d) { return d == Device::kCpu ? "cpu" : "cuda"; }

inline constexpr int kMaxRank = 4;

class TensorView {
 public:
  TensorView() = default;
  TensorView(void* data, DType dtype, std::span<const int64_t> shape, Device device = Device::kCpu);
  TensorView(void* data, DType dtype, std::initializer_list<int64_t> shape, Device device = Device::kCpu)
      : TensorView(data, dtype, std::span<const int64_t>(shape.begin(), shape.size()), device) {}

  // A view of host memory of element type T (float, double, BFloat16, int32_t).
  template <class T>
  static TensorView of(const T* data, std::initializer_list<int64_t> shape) {
    return TensorView(const_cast<T*>(data), dtype_of<T>(), shape);
  }
  template <class T>
  static TensorView of(const T* data, std::span<const int64_t> shape) {
    return TensorView(const_cast<T*>(data), dtype_of<T>(), shape);
  }

  bool empty() const { return data_ == nullptr; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  int rank() const { return rank_; }
  int64_t dim(int i) const {
    OSP_DCHECK(i >= 0 && i < rank_, "dim {} of a rank-{} view", i, rank_);
    return dims_[size_t(i)];
  }
  std::span<const int64_t> shape() const { return {dims_.data(), size_t(rank_)}; }
  int64_t numel() const;
  int64_t rows() const;  // product of all dimensions but the last (1 for rank 0 and 1)
  int64_t cols() const { return rank_ == 0 ? 1 : dims_[size_t(rank_ - 1)]; }
  int64_t ld() const { return ld_; }
  bool contiguous() const { return ld_ == cols() || rows() <= 1; }

  // The data as T*; checks that T is the view's dtype.
  template <class T>
  T* data() const {
    OSP_CHECK(dtype_ == dtype_of<T>(), "a {} view read as {}", dtype_name(dtype_), dtype_name(dtype_of<T>()));
    return static_cast<T*>(data_);
  }
  void* raw() const { return data_; }

  // Rows [begin, begin + count) as a (count, cols) matrix with the same row stride.
  TensorView row_block(int64_t begin, int64_t count) const;
  // Columns [begin, begin + count) as a (rows, count) matrix with this view's row stride.
  TensorView col_block(int64_t begin, int64_t count) const;
  // The same contiguous elements under another shape of equal numel.
  TensorView reshaped(std::initializer_list<int64_t> shape) const;
  // The first elements of a contiguous view under a shape of at most its numel (the part of a
  // planned buffer that a smaller batch uses).
  TensorView prefix(std::initializer_list<int64_t> shape) const;
  // As a (rows, cols) matrix.
  TensorView as_matrix() const;

  std::string describe() const;  // "bf16[2048, 384] on cpu"

 private:
  void* data_ = nullptr;
  DType dtype_ = DType::kF32;
  Device device_ = Device::kCpu;
  int rank_ = 0;
  std::array<int64_t, kMaxRank> dims_{};
  int64_t ld_ = 1;
};

// An owning tensor: one zero-initialised allocation on its device (CPU only in this build).
class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, std::initializer_list<int64_t> shape, Device device = Device::kCpu);
  Tensor(DType dtype, std::span<const int64_t> shape, Device device = Device::kCpu);
  const TensorView& view() const { return view_; }
  operator const TensorView&() const { return view_; }  // NOLINT: a tensor is usable as its view
  template <class T>
  T* data() const { return view_.data<T>(); }
  int64_t numel() const { return view_.numel(); }
  int64_t bytes() const { return view_.numel() * int64_t(dtype_size(view_.dtype())); }

 private:
  AlignedBuffer<std::byte> storage_;
  TensorView view_;
};

}  // namespace osp
