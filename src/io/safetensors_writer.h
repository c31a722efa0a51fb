// Writing safetensors files (spec formats.md §1): tensors ordered by descending dtype alignment
// then name, no padding between them, the header padded with spaces so the data buffer starts
// 8-aligned, "format": "pt" in __metadata__, and the file replaced atomically (AtomicFile).
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "io/safetensors_dtype.h"
#include "io/safetensors_header.h"

namespace osp::io {

// One tensor to write. `bytes` is row-major, little-endian, and exactly numel * bits / 8 long
// (std::as_bytes of a float span, or encode_f32 for F16/BF16); it must outlive the call.
struct SafetensorsTensor {
  std::string name;
  SafetensorsDType dtype = SafetensorsDType::kF32;
  std::vector<uint64_t> shape;  // [] is a scalar
  std::span<const std::byte> bytes;
};

struct SafetensorsLayout {
  std::vector<std::byte> header;  // the 8-byte length and the JSON, padded to a multiple of 8
  std::vector<size_t> order;      // input indices in the order their bytes follow the header
};

// Validates the tensors (unique names, byte counts matching dtype and shape) and lays out the
// file. Metadata gets "format": "pt" unless the caller sets "format" (spec §1.5: transformers
// needs it). `file` names the destination in messages.
Result<SafetensorsLayout> layout_safetensors(std::span<const SafetensorsTensor> tensors,
                                             const SafetensorsMetadata& metadata,
                                             std::string_view file);

// Writes (atomically replaces) `path`.
Status write_safetensors(const std::filesystem::path& path,
                         std::span<const SafetensorsTensor> tensors,
                         const SafetensorsMetadata& metadata = {});

// The same file image, in memory (tests, small payloads).
Result<std::vector<std::byte>> safetensors_to_bytes(std::span<const SafetensorsTensor> tensors,
                                                    const SafetensorsMetadata& metadata = {});

}  // namespace osp::io
