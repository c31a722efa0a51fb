// Reading a llama GGUF (formats.md §3) into an osp model: the llama.* keys become the config,
// every tensor is decoded to fp32 (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K … Q6_K),
// attn_q/attn_k get llama.cpp's RoPE row permutation undone (§3.10), a missing output.weight
// means a tied head, and the tokenizer comes from the tokenizer.ggml.* keys (gguf_tokenizer.h).
// What osp cannot honour — another architecture, rope scaling, biases, experts — is refused by
// key or tensor name.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "io/gguf_reader.h"
#include "io/model_file.h"

namespace osp::io {

// The model config the llama.* keys and the tensors' presence describe (tied when output.weight
// is absent), or why the file is not a model osp can run.
Result<model::ModelConfig> gguf_llama_config(const GgufReader& r);

// `notices` (optional) receives what was accepted with a remark.
Result<LoadedModel> load_gguf_llama(const std::filesystem::path& file, std::vector<std::string>* notices = nullptr);

// The inverse of the export's permutation: old row j·(Dh/2) + i ← GGUF row 2i + j, per head.
std::vector<float> unpermute_qk_rows(std::span<const float> w, int64_t heads, int64_t dh, int64_t cols);

}  // namespace osp::io
