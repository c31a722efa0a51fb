// Decoding of the llama.cpp block types osp reads but does not write: Q4_1, Q5_0, Q5_1 (32 values
// per block) and the K-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256 values per super-block), to fp32
// in ggml's arithmetic (scale products in fp32, then value · scale − min). Layouts, little-endian,
// per block (formats.md §3.5 gives the sizes):
//   Q4_1  d f16, m f16, qs[16]                   x = d·q + m, q = 4 bits
//   Q5_0  d f16, qh[4], qs[16]                   x = d·(q − 16), q = 4 bits + a fifth from qh
//   Q5_1  d f16, m f16, qh[4], qs[16]            x = d·q + m
//   Q2_K  scales[16], qs[64], d f16, dmin f16    16 groups of 16: 4-bit scale and min each
//   Q3_K  hmask[32], qs[64], scales[12], d f16   16 groups of 16: 6-bit signed scales, 3-bit q
//   Q4_K  d f16, dmin f16, scales[12], qs[128]   8 groups of 32: 6-bit scale and min each
//   Q5_K  d f16, dmin f16, scales[12], qh[32], qs[128]
//   Q6_K  ql[128], qh[64], scales[16] (i8), d f16   16 groups of 16, 6-bit q − 32
// The values of one nibble byte go to positions j (low nibble) and j + 16 (or + 32 for the
// K-quants' halves), as ggml lays them out; tests/io/test_gguf_dequant.py checks every type
// against the gguf package's dequantizers.
#include "io/gguf_dequant.h"

#include <cstring>

#include "core/dtype.h"

namespace osp::io {
namespace {

float f16_at(const std::byte* p) { return f16_to_f32(uint16_t(unsigned(p[0]) | (unsigned(p[1]) << 8))); }
unsigned u8(const std::byte* p, int i) { return unsigned(p[i]); }

void q4_1(const std::byte* b, float* y) {
  const float d = f16_at(b), m = f16_at(b + 2);
  for (int j = 0; j < 16; ++j) {
    y[j] = float(u8(b + 4, j) & 15) * d + m;
    y[j + 16] = float(u8(b + 4, j) >> 4) * d + m;
  }
}

// Q5_0 (has_min false) and Q5_1: the fifth bit of value j is bit j of the 32-bit qh.
void q5(const std::byte* b, float* y, bool has_min) {
  const float d = f16_at(b), m = has_min ? f16_at(b + 2) : 0.0f;
  const std::byte* qhp = b + (has_min ? 4 : 2);
  uint32_t qh;
  std::memcpy(&qh, qhp, 4);
  const std::byte* qs = qhp + 4;
  for (int j = 0; j < 16; ++j) {
    const int lo = int((u8(qs, j) & 15) | (((qh >> j) & 1) << 4));
    const int hi = int((u8(qs, j) >> 4) | (((qh >> (j + 16)) & 1) << 4));
    if (has_min) {
      y[j] = float(lo) * d + m;
      y[j + 16] = float(hi) * d + m;
    } else {
      y[j] = float(lo - 16) * d;
      y[j + 16] = float(hi - 16) * d;
    }
  }
}

void q2_k(const std::byte* b, float* y) {
  const std::byte* scales = b;
  const std::byte* q = b + 16;
  const float d = f16_at(b + 80), dmin = f16_at(b + 82);
  int is = 0;
  for (int n = 0; n < 256; n += 128, q += 32)
    for (int shift = 0; shift < 8; shift += 2)
      for (int half = 0; half < 2; ++half) {
        const unsigned sc = u8(scales, is++);
        const float dl = d * float(sc & 15), ml = dmin * float(sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * float((u8(q, l + 16 * half) >> shift) & 3) - ml;
      }
}

// The 16 signed 6-bit scales of Q3_K: low 4 bits from bytes 0..7 (nibbles), high 2 bits from
// bytes 8..11.
void q3_k_scales(const std::byte* s, int8_t* out) {
  for (int i = 0; i < 16; ++i) {
    const unsigned low = i < 8 ? (u8(s, i) & 15) : (u8(s, i - 8) >> 4);
    const unsigned high = (u8(s, 8 + i % 4) >> (2 * (i / 4))) & 3;
    out[i] = int8_t(int(low | (high << 4)) - 32);
  }
}

void q3_k(const std::byte* b, float* y) {
  const std::byte* hmask = b;
  const std::byte* q = b + 32;
  int8_t scales[16];
  q3_k_scales(b + 96, scales);
  const float d = f16_at(b + 108);
  int is = 0;
  unsigned m = 1;
  for (int n = 0; n < 256; n += 128, q += 32)
    for (int shift = 0; shift < 8; shift += 2, m <<= 1)
      for (int half = 0; half < 2; ++half) {
        const float dl = d * float(scales[is++]);
        for (int l = 0; l < 16; ++l) {
          const int k = l + 16 * half;
          *y++ = dl * float(int((u8(q, k) >> shift) & 3) - ((u8(hmask, k) & m) ? 0 : 4));
        }
      }
}

// The 6-bit scale and min of group j of Q4_K / Q5_K from their 12 packed bytes.
void scale_min_k4(int j, const std::byte* s, float* sc, float* mn) {
  if (j < 4) {
    *sc = float(u8(s, j) & 63);
    *mn = float(u8(s, j + 4) & 63);
  } else {
    *sc = float((u8(s, j + 4) & 15) | ((u8(s, j - 4) >> 6) << 4));
    *mn = float((u8(s, j + 4) >> 4) | ((u8(s, j) >> 6) << 4));
  }
}

// Q4_K (qh null) and Q5_K: groups of 32 values; the fifth bit of Q5_K comes from qh.
void q45_k(const std::byte* b, float* y, bool five) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const std::byte* scales = b + 4;
  const std::byte* qh = five ? b + 16 : nullptr;
  const std::byte* q = b + (five ? 48 : 16);
  unsigned u1 = 1, u2 = 2;
  for (int j = 0, is = 0; j < 256; j += 64, q += 32, is += 2, u1 <<= 2, u2 <<= 2) {
    float sc, mn;
    scale_min_k4(is, scales, &sc, &mn);
    const float d1 = d * sc, m1 = dmin * mn;
    scale_min_k4(is + 1, scales, &sc, &mn);
    const float d2 = d * sc, m2 = dmin * mn;
    for (int l = 0; l < 32; ++l) *y++ = d1 * float((u8(q, l) & 15) + (qh && (u8(qh, l) & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * float((u8(q, l) >> 4) + (qh && (u8(qh, l) & u2) ? 16 : 0)) - m2;
  }
}

void q6_k(const std::byte* b, float* y) {
  const std::byte* ql = b;
  const std::byte* qh = b + 128;
  const std::byte* sc = b + 192;
  const float d = f16_at(b + 208);
  for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = int((u8(ql, l) & 15) | (((u8(qh, l) >> 0) & 3) << 4)) - 32;
      const int q2 = int((u8(ql, l + 32) & 15) | (((u8(qh, l) >> 2) & 3) << 4)) - 32;
      const int q3 = int((u8(ql, l) >> 4) | (((u8(qh, l) >> 4) & 3) << 4)) - 32;
      const int q4 = int((u8(ql, l + 32) >> 4) | (((u8(qh, l) >> 6) & 3) << 4)) - 32;
      auto scale = [&](int k) { return d * float(static_cast<int8_t>(sc[k])); };
      y[l] = scale(is) * float(q1);
      y[l + 32] = scale(is + 2) * float(q2);
      y[l + 64] = scale(is + 4) * float(q3);
      y[l + 96] = scale(is + 6) * float(q4);
    }
}

}  // namespace

bool gguf_dequant_block(GgufType type, const std::byte* block, float* out) {
  switch (type) {
    case GgufType::kQ4_1: q4_1(block, out); return true;
    case GgufType::kQ5_0: q5(block, out, false); return true;
    case GgufType::kQ5_1: q5(block, out, true); return true;
    case GgufType::kQ2_K: q2_k(block, out); return true;
    case GgufType::kQ3_K: q3_k(block, out); return true;
    case GgufType::kQ4_K: q45_k(block, out, false); return true;
    case GgufType::kQ5_K: q45_k(block, out, true); return true;
    case GgufType::kQ6_K: q6_k(block, out); return true;
    default: return false;
  }
}

}  // namespace osp::io
