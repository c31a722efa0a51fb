// safetensors dtype table and element conversions (see safetensors_dtype.h).
#include "io/safetensors_dtype.h"

#include <array>
#include <bit>
#include <cstring>

#include "core/check.h"

namespace osp::io {
namespace {

// Conversions below copy bytes as they are: the format is little-endian and so are our targets.
static_assert(std::endian::native == std::endian::little, "osp assumes a little-endian host");

struct DTypeRow {
  SafetensorsDType dtype;
  std::string_view name;
  int bits;
  bool numeric;
};

constexpr std::array<DTypeRow, kSafetensorsDTypeCount> kTable{{
    {SafetensorsDType::kBool, "BOOL", 8, true},
    {SafetensorsDType::kF4, "F4", 4, false},
    {SafetensorsDType::kF6E2M3, "F6_E2M3", 6, false},
    {SafetensorsDType::kF6E3M2, "F6_E3M2", 6, false},
    {SafetensorsDType::kU8, "U8", 8, true},
    {SafetensorsDType::kI8, "I8", 8, true},
    {SafetensorsDType::kF8E5M2, "F8_E5M2", 8, false},
    {SafetensorsDType::kF8E4M3, "F8_E4M3", 8, false},
    {SafetensorsDType::kF8E8M0, "F8_E8M0", 8, false},
    {SafetensorsDType::kF8E4M3Fnuz, "F8_E4M3FNUZ", 8, false},
    {SafetensorsDType::kF8E5M2Fnuz, "F8_E5M2FNUZ", 8, false},
    {SafetensorsDType::kI16, "I16", 16, true},
    {SafetensorsDType::kU16, "U16", 16, true},
    {SafetensorsDType::kF16, "F16", 16, true},
    {SafetensorsDType::kBF16, "BF16", 16, true},
    {SafetensorsDType::kI32, "I32", 32, true},
    {SafetensorsDType::kU32, "U32", 32, true},
    {SafetensorsDType::kF32, "F32", 32, true},
    {SafetensorsDType::kC64, "C64", 64, false},
    {SafetensorsDType::kF64, "F64", 64, true},
    {SafetensorsDType::kI64, "I64", 64, true},
    {SafetensorsDType::kU64, "U64", 64, true},
}};

constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < kTable.size(); ++i)
    if (static_cast<size_t>(kTable[i].dtype) != i) return false;
  return true;
}
static_assert(table_in_enum_order(), "kTable rows must follow the enum order");

const DTypeRow& row(SafetensorsDType dtype) {
  const auto i = static_cast<size_t>(dtype);
  OSP_CHECK(i < kTable.size(), "bad SafetensorsDType {}", i);
  return kTable[i];
}

// Reads one little-endian element of type S at src (unaligned) and converts it to T.
template <class S, class T>
void convert_all(const std::byte* src, size_t n, T* dst) {
  for (size_t i = 0; i < n; ++i) {
    S s;
    std::memcpy(&s, src + i * sizeof(S), sizeof(S));
    dst[i] = static_cast<T>(s);
  }
}

template <class T>
void convert_half(const std::byte* src, size_t n, T* dst, float (*to_f32)(uint16_t)) {
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + i * 2, 2);
    dst[i] = static_cast<T>(to_f32(h));
  }
}

// Encodes every value with `encode` (float -> S) and stores the S little-endian.
template <class S, class F>
std::vector<std::byte> encode_each(std::span<const float> values, F encode) {
  std::vector<std::byte> out(values.size() * sizeof(S));
  for (size_t i = 0; i < values.size(); ++i) {
    const S s = encode(values[i]);
    std::memcpy(out.data() + i * sizeof(S), &s, sizeof(S));
  }
  return out;
}

}  // namespace

std::string_view safetensors_dtype_name(SafetensorsDType dtype) { return row(dtype).name; }

std::optional<SafetensorsDType> parse_safetensors_dtype(std::string_view name) {
  for (const DTypeRow& r : kTable)
    if (r.name == name) return r.dtype;
  return std::nullopt;
}

int safetensors_dtype_bits(SafetensorsDType dtype) { return row(dtype).bits; }

bool safetensors_dtype_is_numeric(SafetensorsDType dtype) { return row(dtype).numeric; }

std::string_view safetensors_numeric_dtype_list() {
  return "F32, F16, BF16, F64, BOOL, U8, I8, I16, U16, I32, U32, I64, U64";
}

SafetensorsDType to_safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return SafetensorsDType::kF32;
    case DType::kF64:
      return SafetensorsDType::kF64;
    case DType::kBF16:
      return SafetensorsDType::kBF16;
    case DType::kF16:
      return SafetensorsDType::kF16;
    case DType::kI32:
      return SafetensorsDType::kI32;
  }
  OSP_CHECK(false, "unknown DType {}", static_cast<int>(dtype));
  return SafetensorsDType::kF32;
}

std::optional<DType> from_safetensors_dtype(SafetensorsDType dtype) {
  switch (dtype) {
    case SafetensorsDType::kF32:
      return DType::kF32;
    case SafetensorsDType::kF64:
      return DType::kF64;
    case SafetensorsDType::kBF16:
      return DType::kBF16;
    case SafetensorsDType::kF16:
      return DType::kF16;
    default:
      return std::nullopt;
  }
}

template <class T>
size_t decode_elements(SafetensorsDType dtype, const std::byte* src, size_t n, T* dst) {
  switch (dtype) {
    case SafetensorsDType::kBool:
      // Only 0 and 1 are booleans; anything else is corrupt data, not "true".
      for (size_t i = 0; i < n; ++i) {
        const auto b = static_cast<uint8_t>(src[i]);
        if (b > 1) return i;
        dst[i] = static_cast<T>(b);
      }
      return n;
    case SafetensorsDType::kU8:
      convert_all<uint8_t>(src, n, dst);
      return n;
    case SafetensorsDType::kI8:
      convert_all<int8_t>(src, n, dst);
      return n;
    case SafetensorsDType::kI16:
      convert_all<int16_t>(src, n, dst);
      return n;
    case SafetensorsDType::kU16:
      convert_all<uint16_t>(src, n, dst);
      return n;
    case SafetensorsDType::kF16:
      convert_half(src, n, dst, f16_to_f32);
      return n;
    case SafetensorsDType::kBF16:
      convert_half(src, n, dst, bf16_to_f32);
      return n;
    case SafetensorsDType::kI32:
      convert_all<int32_t>(src, n, dst);
      return n;
    case SafetensorsDType::kU32:
      convert_all<uint32_t>(src, n, dst);
      return n;
    case SafetensorsDType::kF32:
      convert_all<float>(src, n, dst);
      return n;
    case SafetensorsDType::kF64:
      convert_all<double>(src, n, dst);
      return n;
    case SafetensorsDType::kI64:
      convert_all<int64_t>(src, n, dst);
      return n;
    case SafetensorsDType::kU64:
      convert_all<uint64_t>(src, n, dst);
      return n;
    default:
      break;
  }
  OSP_CHECK(false, "decode_elements: {} is not a numeric dtype", safetensors_dtype_name(dtype));
  return 0;
}

template size_t decode_elements<float>(SafetensorsDType, const std::byte*, size_t, float*);
template size_t decode_elements<double>(SafetensorsDType, const std::byte*, size_t, double*);

std::vector<std::byte> encode_f32(std::span<const float> values, SafetensorsDType dtype) {
  switch (dtype) {
    case SafetensorsDType::kF32:
      return encode_each<float>(values, [](float v) { return v; });
    case SafetensorsDType::kF64:
      return encode_each<double>(values, [](float v) { return static_cast<double>(v); });
    case SafetensorsDType::kF16:
      return encode_each<uint16_t>(values, f32_to_f16);
    case SafetensorsDType::kBF16:
      return encode_each<uint16_t>(values, f32_to_bf16);
    default:
      break;
  }
  OSP_CHECK(false, "encode_f32: cannot encode floats as {}", safetensors_dtype_name(dtype));
  return {};
}

}  // namespace osp::io
