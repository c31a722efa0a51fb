// Parsing and validation of a safetensors file image (spec formats.md §1): the 8-byte header
// length, the JSON header, and every tensor's dtype, shape and byte range. Nothing in a file is
// trusted before this accepts it; after it, every tensor's bytes lie inside the image.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "io/safetensors_dtype.h"

namespace osp::io {

// Readers refuse longer headers (§1.1): it bounds the memory a hostile file can make us spend.
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

struct SafetensorsTensorInfo {
  std::string name;
  SafetensorsDType dtype = SafetensorsDType::kF32;
  std::vector<uint64_t> shape;  // row-major; [] is a scalar (one element)
  uint64_t numel = 0;           // product of shape, checked against overflow
  uint64_t begin = 0;           // [begin, end): bytes of the data buffer (which follows the header)
  uint64_t end = 0;
  uint64_t nbytes() const { return end - begin; }
};

using SafetensorsMetadata = std::map<std::string, std::string>;

struct SafetensorsHeader {
  std::vector<SafetensorsTensorInfo> tensors;  // in buffer order (by begin, then end, then name)
  SafetensorsMetadata metadata;                // __metadata__, empty when absent
  uint64_t buffer_offset = 0;                  // 8 + N: where the data buffer starts in the image
};

// Validates a whole file image; `file` names it in error messages ("<file>: <problem>").
Result<SafetensorsHeader> parse_safetensors(std::span<const std::byte> image,
                                            std::string_view file);

// "[2, 3]": a shape as error messages and tools print it.
std::string format_shape(std::span<const uint64_t> shape);

struct TensorSize {
  uint64_t numel = 0;
  uint64_t bytes = 0;
};

// Element count and byte size from dtype and shape with every product overflow-checked (spec §0,
// §1.4); `who` (file and tensor) starts each message.
Result<TensorSize> checked_tensor_size(SafetensorsDType dtype, const std::vector<uint64_t>& shape,
                                      const std::string& who);

}  // namespace osp::io
