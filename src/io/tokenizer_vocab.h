// What exporters need from a tokenizer.json (formats.md §4): the tokens by id with their GGUF
// types, the merges, the special ids, whether BOS/EOS are added, and llama.cpp's pre-tokenizer
// name (§3.9). `osp export` fills it from data::Tokenizer (io may not depend on data), so the
// file is parsed once, by the tokenizer that encodes; read_tokenizer_vocab is a JSON-only reader
// for callers without one.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace osp::io {

enum class GgufTokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct TokenizerVocab {
  std::vector<std::string> tokens;    // by id; ids no entry names get "[PAD<id>]"
  std::vector<GgufTokenType> types;   // same length
  std::vector<std::string> merges;    // "left right" in rank order
  std::optional<int64_t> bos, eos, pad, unk;
  bool add_bos = false, add_eos = false;
  std::string pre;                    // llama.cpp pre-tokenizer id, empty when none fits
  std::string pre_problem;            // why `pre` is empty (the pre-tokenizer's description)
  std::optional<std::string> bos_token, eos_token, pad_token, unk_token;  // their strings
};

// Parses tokenizer.json text; `file` names it in messages. Refuses non-BPE models by name.
Result<TokenizerVocab> read_tokenizer_vocab(std::string_view json_text, std::string_view file);

// Where no BOS token exists, the EOS token stands for it (GPT-2 / SmolLM convention, §2.2).
void apply_bos_convention(TokenizerVocab& v);

// Pads the vocabulary to `vocab` entries with "[PAD<id>]" fillers of type unused (§3.9), or
// refuses when the tokenizer has more ids than the model.
Status pad_tokenizer_vocab(TokenizerVocab& v, int64_t vocab, std::string_view file);

// The tokenizer a checkpoint was trained with: <run config data.train>/tokenizer.json, found via
// the checkpoint folder's state.json. nullopt when there is none.
std::optional<std::filesystem::path> find_training_tokenizer(const std::filesystem::path& model_path);

}  // namespace osp::io
