// Scalar storage types and their conversions. fp32 -> bf16/f16 round to nearest even (spec §0).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace osp {

// kI32 is for token ids and other integer tensors the ops read (embedding, targets).
enum class DType { kF32, kF64, kBF16, kF16, kI32 };

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF64: return "f64";
    case DType::kBF16: return "bf16";
    case DType::kF16: return "f16";
    case DType::kI32: return "i32";
  }
  return "?";
}

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF64: return 8;
    case DType::kF32:
    case DType::kI32: return 4;
    case DType::kBF16:
    case DType::kF16: return 2;
  }
  return 0;
}

// bf16 storage: the upper 16 bits of an fp32. A distinct type so that templates and tensor views
// cannot confuse it with an integer.
struct BFloat16 {
  uint16_t bits;
};

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::kF32; }
template <>
constexpr DType dtype_of<double>() { return DType::kF64; }
template <>
constexpr DType dtype_of<BFloat16>() { return DType::kBF16; }
template <>
constexpr DType dtype_of<int32_t>() { return DType::kI32; }

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// fp32 -> bf16, round to nearest even; NaN stays a (quiet) NaN.
inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  const uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}
inline float bf16_to_f32(uint16_t h) { return f32_from_bits(static_cast<uint32_t>(h) << 16); }
// Round an fp32 value to the nearest bf16 value, kept in fp32 (used to emulate bf16 arithmetic).
inline float round_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }
inline BFloat16 to_bf16(float f) { return {f32_to_bf16(f)}; }
inline float to_float(BFloat16 h) { return bf16_to_f32(h.bits); }

// fp32 <-> IEEE half via the compiler's _Float16 (round to nearest even).
inline uint16_t f32_to_f16(float f) {
  const _Float16 h = static_cast<_Float16>(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
inline float f16_to_f32(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return static_cast<float>(h);
}

}  // namespace osp
