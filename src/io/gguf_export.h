// Exporting the folded plain Llama as a GGUF "llama" model (formats.md §3.6–§3.13): architecture
// keys, the embedded byte-level BPE tokenizer, the Q/K row permutation for llama.cpp's adjacent-
// pair RoPE, and the tensor types of §3.13.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "io/gguf_format.h"
#include "io/tokenizer_vocab.h"
#include "model/fold.h"

namespace osp::io {

enum class GgufExportType { kF32, kF16, kBF16, kQ8_0, kQ4_0 };

std::optional<GgufExportType> parse_gguf_export_type(std::string_view name);  // "f32", "q4_0", ...

struct GgufExportOptions {
  GgufExportType type = GgufExportType::kF16;
  std::optional<std::filesystem::path> tokenizer;  // tokenizer.json to embed
  std::string name = "osp";                        // general.name
  // The tokenizer as the data module read it (osp export fills this, so that the GGUF's tokens,
  // merges and BOS/EOS are what `osp tokenize` uses); when set, `tokenizer` only names it in
  // messages. Unset: `tokenizer` is read with read_tokenizer_vocab.
  std::optional<TokenizerVocab> vocab;
};

// Returns the notices (tensors written F16 for lack of 32-multiples, no tokenizer, ...).
Result<std::vector<std::string>> export_gguf(const model::PlainLlama& model, const std::filesystem::path& out,
                                             const GgufExportOptions& options);

// Rows of a (heads·head_dim, cols) q or k matrix reordered for adjacent-pair RoPE (§3.10):
// within each head, new row 2i + j = old row j·(head_dim/2) + i.
std::vector<float> permute_qk_rows(std::span<const float> w, int64_t heads, int64_t head_dim, int64_t cols);

// The GGUF name of a transformers tensor name (§3.8), or "" when there is none.
std::string gguf_tensor_name(std::string_view hf_name);

}  // namespace osp::io
