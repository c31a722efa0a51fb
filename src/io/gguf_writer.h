// Writing GGUF v3 files (formats.md §3.1–§3.4): metadata in insertion order, tensor infos, the
// data section aligned to 32 with zero padding. Tensor bytes are produced one tensor at a time
// while writing, so a large model is never held twice; the file is replaced atomically.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "io/gguf_format.h"

namespace osp::io {

class GgufWriter {
 public:
  void add_string(std::string_view key, std::string_view value);
  void add_u32(std::string_view key, uint32_t value);
  void add_f32(std::string_view key, float value);
  void add_bool(std::string_view key, bool value);
  void add_string_array(std::string_view key, std::span<const std::string> values);
  void add_i32_array(std::string_view key, std::span<const int32_t> values);

  // A tensor with ggml dims (ne[0] first, the contiguous one); `produce` returns its bytes,
  // which must be exactly the size the type and dims imply.
  using Producer = std::function<std::vector<std::byte>()>;
  Status add_tensor(std::string name, std::vector<uint64_t> ne, GgufType type, Producer produce);

  Status write(const std::filesystem::path& path) const;
  Result<std::vector<std::byte>> to_bytes() const;

 private:
  struct Tensor {
    std::string name;
    std::vector<uint64_t> ne;
    GgufType type;
    uint64_t nbytes;
    uint64_t offset;
    Producer produce;
  };
  void key(std::string_view k, GgufValueType t);
  std::vector<std::byte> header() const;
  Status emit(const std::function<Status(std::span<const std::byte>)>& sink) const;

  std::vector<std::byte> kv_;  // encoded key/value pairs
  uint64_t kv_count_ = 0;
  std::vector<Tensor> tensors_;
  uint64_t data_size_ = 0;
};

}  // namespace osp::io
