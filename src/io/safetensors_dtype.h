// The dtypes of the safetensors format (spec formats.md §1.3): names, bit widths, which ones osp
// converts to floating point, and the element decoders/encoders used by the reader and writer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/dtype.h"

namespace osp::io {

// In the spec's enumeration order, which is also increasing alignment; the writer orders tensors
// by descending value of this enum (§1.5), so the order of the enumerators matters.
// clang-format off
enum class SafetensorsDType : uint8_t {
  kBool, kF4, kF6E2M3, kF6E3M2, kU8, kI8, kF8E5M2, kF8E4M3, kF8E8M0, kF8E4M3Fnuz, kF8E5M2Fnuz,
  kI16, kU16, kF16, kBF16, kI32, kU32, kF32, kC64, kF64, kI64, kU64
};
// clang-format on
inline constexpr int kSafetensorsDTypeCount = 22;

// "BF16", "F8_E4M3", ...: the spelling used in headers.
std::string_view safetensors_dtype_name(SafetensorsDType dtype);
// The dtype spelled `name` exactly (case-sensitive, as in the reference reader), or nullopt.
std::optional<SafetensorsDType> parse_safetensors_dtype(std::string_view name);
// Bits per element: 4 for F4, 6 for F6_*, 8..64 for the rest.
int safetensors_dtype_bits(SafetensorsDType dtype);

// True for the dtypes osp converts to float/double: F32, F16, BF16, F64, BOOL and the integers.
// The others (F8_*, F6_*, F4, C64) are readable as raw bytes only and refused by name otherwise.
bool safetensors_dtype_is_numeric(SafetensorsDType dtype);
// "F32, F16, BF16, ...": the numeric dtypes, for error messages.
std::string_view safetensors_numeric_dtype_list();

// osp's in-memory dtypes and their safetensors counterparts.
SafetensorsDType to_safetensors_dtype(DType dtype);
std::optional<DType> from_safetensors_dtype(SafetensorsDType dtype);

// The dtype whose elements have C++ type T (exact copies in and out of files); U16 for uint16_t,
// so bf16/f16 bit patterns are named explicitly by the caller.
template <class T>
constexpr SafetensorsDType safetensors_dtype_of() {
  using D = SafetensorsDType;
  if constexpr (std::is_same_v<T, float>)
    return D::kF32;
  else if constexpr (std::is_same_v<T, double>)
    return D::kF64;
  else if constexpr (std::is_same_v<T, int8_t>)
    return D::kI8;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return D::kU8;
  else if constexpr (std::is_same_v<T, int16_t>)
    return D::kI16;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return D::kU16;
  else if constexpr (std::is_same_v<T, int32_t>)
    return D::kI32;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return D::kU32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return D::kI64;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return D::kU64;
  else
    static_assert(sizeof(T) == 0, "no safetensors dtype holds this C++ type");
}

// Converts n little-endian elements of a numeric `dtype` at `src` (any alignment) into dst[0..n).
// Returns n, or the index of the first element that has no numeric value: a BOOL byte other than
// 0 or 1. T is float or double; integers convert with round-to-nearest where they do not fit.
template <class T>
size_t decode_elements(SafetensorsDType dtype, const std::byte* src, size_t n, T* dst);

// Encodes fp32 values as F32, F64, F16 or BF16 bytes (round to nearest even, spec §0), ready for
// the writer. Any other dtype is a programmer error.
std::vector<std::byte> encode_f32(std::span<const float> values, SafetensorsDType dtype);

}  // namespace osp::io
