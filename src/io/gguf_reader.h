// Reading GGUF files (formats.md §3) with ggml's validation rules (§3.12): every length, count
// and offset is checked against the file before use; any violation is one line naming the file.
// Used by tests and `osp info`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "io/gguf_format.h"
#include "core/mapped_file.h"

namespace osp::io {

// "u8", "i8", …, "string", "array", "f64" (GGUF's value type names); "unknown" out of range.
const char* gguf_value_type_name(GgufValueType t);

struct GgufValue {
  GgufValueType type = GgufValueType::kU8;
  uint64_t u = 0;       // unsigned integers and bool
  int64_t i = 0;        // signed integers
  double f = 0;         // F32 / F64
  std::string s;        // STRING
  GgufValueType elem = GgufValueType::kU8;  // ARRAY element type
  std::vector<GgufValue> array;

  // Integer value of any integer type, if it is one and fits.
  std::optional<uint64_t> as_uint() const;
  std::string summary() const;  // short text for `osp info`
};

struct GgufKV {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order
  GgufType type = GgufType::kF32;
  uint64_t offset = 0;       // relative to the data section
  uint64_t numel = 0;
  uint64_t nbytes = 0;
};

class GgufReader {
 public:
  static Result<GgufReader> open(const std::filesystem::path& path);
  // `image` must outlive the reader; `file` names it in messages.
  static Result<GgufReader> from_memory(std::span<const std::byte> image, std::string file);

  const std::string& file() const { return file_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  const std::vector<GgufKV>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* tensor(std::string_view name) const;
  std::span<const std::byte> bytes(const GgufTensorInfo& t) const;
  // The tensor decoded to fp32 (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K … Q6_K),
  // row-major in numpy order.
  Result<std::vector<float>> read_f32(std::string_view name) const;

 private:
  GgufReader() = default;
  static Result<GgufReader> parse(MappedFile map, std::span<const std::byte> image, std::string file);

  MappedFile map_;
  std::span<const std::byte> image_;
  std::string file_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKV> kv_;
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace osp::io
