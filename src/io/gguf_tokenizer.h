// The tokenizer a GGUF carries in its tokenizer.ggml.* keys (formats.md §3.9), rewritten as the
// tokenizer.json that describes the same tokenization, so that osp reads every tokenizer through
// one path (data::Tokenizer::from_json) whatever file it came in:
//   gpt2  (byte-level BPE): tokens, merges, and the pre-tokenizer named by tokenizer.ggml.pre
//         (gpt-2, smollm, llama-bpe/llama3, qwen2), as those models' own tokenizer.json files
//         have it;
//   llama (SentencePiece): tokens and scores, with merges rebuilt from the scores the way
//         transformers' GGUF conversion builds them, byte fallback through the <0xNN> tokens,
//         and the ▁ normalizer of add_space_prefix — the Llama-2 family's tokenizer.json.
// BOS/EOS follow the file's add_bos_token/add_eos_token (llama.cpp's defaults when absent).
// Control and unknown tokens become special added tokens, user-defined ones plain added tokens.
// What cannot be honoured (another tokenizer model, an unknown pre-tokenizer) is refused by key.
#pragma once
#include <string>

#include "core/result.h"
#include "io/gguf_reader.h"

namespace osp::io {

// True when the file has tokenizer.ggml.model.
bool gguf_has_tokenizer(const GgufReader& r);

// tokenizer.json text for the file's tokenizer; errors name the file and the key.
Result<std::string> gguf_tokenizer_json(const GgufReader& r);

}  // namespace osp::io
