// The GGUF vocabulary (formats.md §3.9) of a tokenizer as the data module reads it, so that an
// export and `osp tokenize` agree on every id, merge and special token: tokens by id with their
// GGUF types, merges in rank order, BOS/EOS/PAD/UNK and add_bos/add_eos from the post-processor,
// and llama.cpp's pre-tokenizer name (empty, with the reason, when llama.cpp has none that fits).
#pragma once
#include <string>
#include <vector>

#include "core/result.h"
#include "data/tokenizer.h"
#include "io/tokenizer_vocab.h"

namespace osp::cli {

// `file` names the tokenizer in messages; `notes` receives what the user should know.
Result<io::TokenizerVocab> gguf_vocab(const data::Tokenizer& tok, const std::string& file, std::vector<std::string>& notes);

}  // namespace osp::cli
