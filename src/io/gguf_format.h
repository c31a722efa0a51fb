// GGUF v3 constants (formats.md §3): magic, metadata value types, tensor types with their block
// sizes, and llama's file_type ids. Shared by the writer, the reader and the quantizers.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace osp::io {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint32_t kGgufVersion = 3;
inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr size_t kGgufMaxNameBytes = 63;

enum class GgufValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

enum class GgufType : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ8_1 = 9,
  kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kQ8_K = 15,
  kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28, kBF16 = 30,
};

struct GgufTypeTraits {
  std::string_view name;
  uint64_t block;       // elements per block
  uint64_t type_size;   // bytes per block
};

// The traits of a tensor type id, or nullopt for ids without a fixed block layout in §3.5
// (IQ*, TQ*, MXFP4, retired ids, unknown ids): the reader refuses those by number.
std::optional<GgufTypeTraits> gguf_type_traits(uint32_t type);

// Bytes of a value type's scalar (0 for strings and arrays), or nullopt for unknown ids.
std::optional<uint64_t> gguf_scalar_size(uint32_t value_type);

// general.file_type values (§3.6).
inline constexpr uint32_t kGgufFileAllF32 = 0, kGgufFileF16 = 1, kGgufFileQ4_0 = 2, kGgufFileQ8_0 = 7,
                          kGgufFileBF16 = 32;

}  // namespace osp::io
