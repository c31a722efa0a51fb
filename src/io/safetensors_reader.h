// SafetensorsReader: a validated safetensors file (spec formats.md §1), memory-mapped, with typed
// access to its tensors: info, raw bytes, exact copies, and conversion to float/double.
// Every failure is a Result naming the file and the problem; no input makes it crash or read
// outside the file.
#pragma once
#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/mapped_file.h"
#include "io/safetensors_dtype.h"
#include "io/safetensors_header.h"

namespace osp::io {

class SafetensorsReader {
 public:
  // Maps and validates `path`.
  static Result<SafetensorsReader> open(const std::filesystem::path& path);
  // Validates an image already in memory (tests, fuzzing); `image` must outlive the reader, and
  // `file` names it in messages.
  static Result<SafetensorsReader> from_memory(std::span<const std::byte> image, std::string file);

  const std::string& file() const { return file_; }
  // In file order (by offset), which for files osp writes is the spec §1.5 order.
  const std::vector<SafetensorsTensorInfo>& tensors() const { return header_.tensors; }
  std::vector<std::string> names() const;
  const SafetensorsMetadata& metadata() const { return header_.metadata; }
  // Byte offset of the data buffer in the file (8 + header length).
  uint64_t buffer_offset() const { return header_.buffer_offset; }

  bool contains(std::string_view name) const { return index_.find(name) != index_.end(); }
  // nullptr when absent.
  const SafetensorsTensorInfo* find(std::string_view name) const;
  // An error naming the file and the tensor when absent.
  Result<const SafetensorsTensorInfo*> info(std::string_view name) const;

  // The tensor's bytes as stored: row-major, little-endian, possibly unaligned.
  std::span<const std::byte> bytes(const SafetensorsTensorInfo& t) const;

  // Converts a numeric tensor (safetensors_dtype_is_numeric) into `out`, which must hold exactly
  // numel elements. Other dtypes are refused by name, as are BOOL bytes other than 0 and 1.
  Status read(std::string_view name, std::span<float> out) const;
  Status read(std::string_view name, std::span<double> out) const;
  Result<std::vector<float>> read_f32(std::string_view name) const;
  Result<std::vector<double>> read_f64(std::string_view name) const;

  // Copies the bytes of a tensor that must be stored as `dtype` (bit-exact: checkpoints, RNG
  // state, bf16 bit patterns); `out` must be exactly its size.
  Status read_exact(std::string_view name, SafetensorsDType dtype, std::span<std::byte> out) const;
  template <class T>
  Status read_exact(std::string_view name, std::span<T> out) const {
    return read_exact(name, safetensors_dtype_of<T>(), std::as_writable_bytes(out));
  }

 private:
  SafetensorsReader() = default;
  static Result<SafetensorsReader> build(MappedFile map, std::span<const std::byte> image,
                                         std::string file);
  Result<const SafetensorsTensorInfo*> numeric_info(std::string_view name) const;
  template <class T>
  Status convert(std::string_view name, std::span<T> out) const;
  template <class T>
  Result<std::vector<T>> convert_to_vector(std::string_view name) const;

  MappedFile map_;                    // empty for from_memory()
  std::span<const std::byte> image_;  // the whole file
  std::string file_;
  SafetensorsHeader header_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in header_.tensors
};

}  // namespace osp::io
