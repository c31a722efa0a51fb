// A tokenizer as osp reads it -> the GGUF vocabulary the export writes (see export_vocab.h).
#include "cli/export_vocab.h"

#include <fmt/format.h>

#include <algorithm>

#include "data/byte_level.h"
#include "data/utf8.h"

namespace osp::cli {
namespace {

bool byte_level_step(const data::PreTokenizerStep& s, bool use_regex) {
  return s.kind == data::PreTokenizerStep::Kind::kByteLevel && !s.add_prefix_space && s.use_regex == use_regex;
}

bool split_step(const data::PreTokenizerStep& s, std::string_view pattern) {
  return s.kind == data::PreTokenizerStep::Kind::kSplit && s.regex.pattern() == pattern &&
         s.behavior == data::SplitBehavior::kIsolated && !s.invert;
}

// llama.cpp's pre-tokenizer name for the tokenizer's normalizer + pre-tokenizer (formats.md
// §3.9), or "" with the reason in `problem`.
std::string llama_cpp_pre(const data::Tokenizer& tok, std::string& problem) {
  const auto& s = tok.pre_tokenizer().steps();
  const bool byte_level = std::any_of(s.begin(), s.end(), [](const data::PreTokenizerStep& p) {
    return p.kind == data::PreTokenizerStep::Kind::kByteLevel;
  });
  if (!byte_level) {
    // SentencePiece-style BPE (Metaspace or a "▁" normalizer, <0xNN> byte fallback) would need
    // llama.cpp's "llama" tokenizer, which merges by token score, not by merge rank: the ids
    // could differ, so it is refused rather than exported approximately.
    problem = "the tokenizer is not byte-level (SentencePiece style, no ByteLevel pre_tokenizer): llama.cpp's "
              "\"llama\" tokenizer merges by token score, not by merge rank, and osp exports only byte-level BPE";
    return "";
  }
  if (!tok.normalizer().empty()) {
    problem = "the normalizer has no llama.cpp equivalent";
    return "";
  }
  if (s.size() == 1 && byte_level_step(s[0], true)) return "gpt-2";
  // Digits(individual_digits) is read as an isolating \p{N} split.
  if (s.size() == 2 && split_step(s[0], R"(\p{N})") && byte_level_step(s[1], true)) return "smollm";
  if (s.size() == 2 && split_step(s[0], data::kLlama3Pattern) && byte_level_step(s[1], false)) return "llama-bpe";
  problem = "the pre_tokenizer has no llama.cpp equivalent";
  return "";
}

}  // namespace

// The GGUF vocabulary of a tokenizer as osp reads it, so the export and `osp tokenize` agree on
// every id, merge and special token.
Result<io::TokenizerVocab> gguf_vocab(const data::Tokenizer& tok, const std::string& file,
                                      std::vector<std::string>& notes) {
  io::TokenizerVocab v;
  v.pre = llama_cpp_pre(tok, v.pre_problem);
  const data::BpeModel& model = tok.model();
  // byte_fallback and unk only matter for a symbol missing from the vocab; with ByteLevel every
  // symbol is one of the 256 byte characters. Bytes that valid UTF-8 never contains (C0, C1,
  // F5-FF) cannot be missing in practice; for others osp and tokenizers give unk or <0xNN>
  // tokens where llama.cpp's gpt2 tokenizer drops the byte, which is worth a note.
  if (!v.pre.empty() && (model.options().byte_fallback || model.options().unk_token)) {
    std::string missing;
    for (int b = 0; b < 0xF5; ++b) {
      std::string ch;
      data::utf8_append(ch, data::byte_to_char(uint8_t(b)));
      if (b != 0xC0 && b != 0xC1 && !model.token_to_id(ch)) missing += fmt::format(" 0x{:02X}", b);
    }
    if (!missing.empty())
      notes.push_back(fmt::format(
          "the vocab has no token for the bytes{}: osp and tokenizers encode them with model.unk_token or "
          "byte_fallback, llama.cpp drops them",
          missing));
  }
  const data::SpecialIds ids = tok.special_ids();
  if (tok.template_prefix().size() > 1 || tok.template_suffix().size() > 1)
    return make_error("{}: post_processor adds {} tokens before and {} after the text; GGUF's add_bos_token/add_eos_token "
                      "express one each",
                      file, tok.template_prefix().size(), tok.template_suffix().size());
  for (data::TokenId id = 0; id < tok.vocab_size(); ++id) {
    const auto token = tok.id_to_token(id);
    const data::AddedToken* added = tok.added().find_id(id);
    v.tokens.push_back(token ? *token : fmt::format("[PAD{}]", id));
    io::GgufTokenType type = io::GgufTokenType::kNormal;
    if (!token) type = io::GgufTokenType::kUnused;
    else if (added != nullptr) type = added->special ? io::GgufTokenType::kControl : io::GgufTokenType::kUserDefined;
    if (ids.unk && *ids.unk == id) type = io::GgufTokenType::kUnknown;
    v.types.push_back(type);
  }
  for (const auto& [left, right] : model.merge_list()) {
    const std::string &a = *model.id_to_token(left), &b = *model.id_to_token(right);
    if (a.find(' ') != std::string::npos || b.find(' ') != std::string::npos)
      return make_error("{}: merge '{}' + '{}' contains a space; GGUF's \"a b\" form cannot express it", file, a, b);
    v.merges.push_back(a + " " + b);
  }
  const auto set = [&](std::optional<int64_t>& id, std::optional<std::string>& text, std::optional<data::TokenId> from) {
    if (!from) return;
    id = *from;
    text = tok.id_to_token(*from);
  };
  set(v.bos, v.bos_token, ids.bos);
  set(v.eos, v.eos_token, ids.eos);
  set(v.pad, v.pad_token, ids.pad);
  set(v.unk, v.unk_token, ids.unk);
  v.add_bos = ids.add_bos;
  v.add_eos = ids.add_eos;
  io::apply_bos_convention(v);
  return v;
}

}  // namespace osp::cli
