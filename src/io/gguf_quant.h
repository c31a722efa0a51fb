// llama.cpp's Q8_0 and Q4_0 block encodings (formats.md §3.11), bit-exact to its reference
// encoders, and decoding to fp32 of every type osp writes (F32, F16, BF16, Q8_0, Q4_0) and of
// Q4_1, Q5_0, Q5_1 and the K-quants Q2_K … Q6_K (gguf_dequant.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"
#include "io/gguf_format.h"

namespace osp::io {

// Encodes a row-major tensor whose rows are `row` elements long (a multiple of 32 for the
// quantized types) as `type`: F32, F16, BF16, Q8_0 or Q4_0.
std::vector<std::byte> gguf_encode(std::span<const float> values, uint64_t row, GgufType type);

// Decodes `numel` elements of `type` from `bytes` (exactly their size) into fp32; other types
// (Q8_1, Q8_K, IQ*, integers) are refused by name.
Result<std::vector<float>> gguf_decode(std::span<const std::byte> bytes, uint64_t numel, GgufType type);

}  // namespace osp::io
