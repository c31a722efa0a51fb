// Q8_0 / Q4_0 as llama.cpp's quantize_row_q8_0_ref / quantize_row_q4_0_ref define them (§3.11):
// the scale is computed and applied in fp32, stored as fp16 (RNE); Q8_0 rounds half away from
// zero (roundf), Q4_0 truncates x·id + 8.5 with the product rounded to fp32 first (this file is
// built without FMA contraction). Those two rules are deliberate, not osp's RNE.
#include "io/gguf_quant.h"

#include <cmath>
#include <cstring>

#include "core/check.h"
#include "core/dtype.h"
#include "io/gguf_dequant.h"

namespace osp::io {
namespace {

void put_u16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v & 0xff);
  p[1] = std::byte(v >> 8);
}
uint16_t get_u16(const std::byte* p) { return uint16_t(unsigned(p[0]) | (unsigned(p[1]) << 8)); }

void encode_q8_0_block(const float* x, std::byte* out) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  put_u16(out, f32_to_f16(d));
  for (int j = 0; j < 32; ++j) out[2 + j] = std::byte(static_cast<int8_t>(std::roundf(x[j] * id)));
}

void encode_q4_0_block(const float* x, std::byte* out) {
  float amax = 0.0f, max = 0.0f;  // max: the element of largest magnitude, first on ties, sign kept
  for (int j = 0; j < 32; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  put_u16(out, f32_to_f16(d));
  for (int j = 0; j < 16; ++j) {
    const int lo = std::min(15, int(static_cast<int8_t>(x[j] * id + 8.5f)));
    const int hi = std::min(15, int(static_cast<int8_t>(x[16 + j] * id + 8.5f)));
    out[2 + j] = std::byte(uint8_t(lo | (hi << 4)));
  }
}

}  // namespace

std::vector<std::byte> gguf_encode(std::span<const float> v, uint64_t row, GgufType type) {
  const auto traits = gguf_type_traits(uint32_t(type));
  OSP_CHECK(traits && row % traits->block == 0 && v.size() % row == 0, "gguf_encode: bad row {}", row);
  std::vector<std::byte> out(v.size() / traits->block * traits->type_size);
  std::byte* o = out.data();
  switch (type) {
    case GgufType::kF32:
      if (!v.empty()) std::memcpy(o, v.data(), v.size() * 4);
      break;
    case GgufType::kF16:
      for (size_t i = 0; i < v.size(); ++i) put_u16(o + 2 * i, f32_to_f16(v[i]));
      break;
    case GgufType::kBF16:
      for (size_t i = 0; i < v.size(); ++i) put_u16(o + 2 * i, f32_to_bf16(v[i]));
      break;
    case GgufType::kQ8_0:
      for (size_t b = 0; b < v.size() / 32; ++b) encode_q8_0_block(v.data() + 32 * b, o + 34 * b);
      break;
    case GgufType::kQ4_0:
      for (size_t b = 0; b < v.size() / 32; ++b) encode_q4_0_block(v.data() + 32 * b, o + 18 * b);
      break;
    default:
      OSP_CHECK(false, "gguf_encode: type {} is not written by osp", traits->name);
  }
  return out;
}

Result<std::vector<float>> gguf_decode(std::span<const std::byte> bytes, uint64_t numel, GgufType type) {
  const auto traits = gguf_type_traits(uint32_t(type));
  if (!traits) return make_error("GGUF type {} cannot be decoded", uint32_t(type));
  if (numel % traits->block != 0 || bytes.size() != numel / traits->block * traits->type_size)
    return make_error("GGUF {} data of {} bytes does not hold {} elements", traits->name, bytes.size(), numel);
  std::vector<float> out(numel);
  const std::byte* p = bytes.data();
  switch (type) {
    case GgufType::kF32:
      if (numel) std::memcpy(out.data(), p, numel * 4);
      break;
    case GgufType::kF16:
      for (uint64_t i = 0; i < numel; ++i) out[i] = f16_to_f32(get_u16(p + 2 * i));
      break;
    case GgufType::kBF16:
      for (uint64_t i = 0; i < numel; ++i) out[i] = bf16_to_f32(get_u16(p + 2 * i));
      break;
    case GgufType::kQ8_0:
      for (uint64_t b = 0; b < numel / 32; ++b) {
        const float d = f16_to_f32(get_u16(p + 34 * b));
        for (int j = 0; j < 32; ++j) out[32 * b + j] = float(static_cast<int8_t>(p[34 * b + 2 + j])) * d;
      }
      break;
    case GgufType::kQ4_0:
      for (uint64_t b = 0; b < numel / 32; ++b) {
        const float d = f16_to_f32(get_u16(p + 18 * b));
        for (int j = 0; j < 16; ++j) {
          const unsigned q = unsigned(p[18 * b + 2 + j]);
          out[32 * b + j] = float(int(q & 15) - 8) * d;
          out[32 * b + 16 + j] = float(int(q >> 4) - 8) * d;
        }
      }
      break;
    default: {
      const uint64_t blocks = numel / traits->block;
      for (uint64_t b = 0; b < blocks; ++b)
        if (!gguf_dequant_block(type, p + traits->type_size * b, out.data() + traits->block * b))
          return make_error("GGUF type {} cannot be decoded by osp (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
                            "Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)", traits->name);
    }
  }
  return out;
}

}  // namespace osp::io
