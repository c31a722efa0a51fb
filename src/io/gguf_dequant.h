// Decoding of one block of the llama.cpp quantized types osp reads but does not write (Q4_1,
// Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) to fp32; gguf_decode (gguf_quant.h) uses it.
#pragma once
#include <cstddef>

#include "io/gguf_format.h"

namespace osp::io {

// out receives the block's 32 (Q4_1, Q5_*) or 256 (K-quants) values; false for other types.
bool gguf_dequant_block(GgufType type, const std::byte* block, float* out);

}  // namespace osp::io
