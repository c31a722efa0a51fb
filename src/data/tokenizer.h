// A Hugging Face compatible byte-level BPE tokenizer (formats.md §4): loaded from tokenizer.json,
// immutable afterwards, shared by any number of Encoders (one per thread). Encoding and decoding
// reproduce the tokenizers library token for token.
//
//   auto tok = Tokenizer::load("tokenizer.json");           // Result<Tokenizer>
//   Encoder enc(*tok);  std::vector<TokenId> ids;  enc.encode("Hello", ids);
//   std::string text = tok->decode(ids);
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "data/added_vocabulary.h"
#include "data/bpe_model.h"
#include "data/decoder.h"
#include "data/normalizer.h"
#include "data/pre_tokenizer.h"

namespace osp::data {

// The special tokens a model runtime needs, from the post-processor where it says (the token it
// puts before / after one sequence) and from the usual names otherwise.
struct SpecialIds {
  std::optional<TokenId> bos, eos, pad, unk;
  bool add_bos = false, add_eos = false;  // encoding with special tokens adds them
};

class Tokenizer {
 public:
  // Reads and validates a tokenizer.json; errors name the file and the problem in one line.
  static Result<Tokenizer> load(const std::string& path);
  // Same, from JSON text; `name` stands for the file in messages.
  static Result<Tokenizer> from_json(std::string_view json_text, const std::string& name);

  // Convenience for one text (allocates an Encoder); use Encoder in loops and threads.
  Result<std::vector<TokenId>> encode(std::string_view text, bool add_special_tokens = true) const;

  // Ids to text: token strings through the decoder (formats.md §4.7). Unknown ids are skipped,
  // as the tokenizers library does; special added tokens too when skip_special_tokens is set.
  std::string decode(std::span<const TokenId> ids, bool skip_special_tokens = false) const;

  std::optional<TokenId> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(TokenId id) const;
  // One more than the largest id (model or added): the size an embedding table needs.
  uint32_t vocab_size() const { return vocab_size_; }
  // The end-of-document token: the first special added token among the usual names, if any.
  std::optional<TokenId> eos_id() const;
  // BOS/EOS/PAD/UNK as exporters write them (see SpecialIds).
  SpecialIds special_ids() const;
  const AddedVocabulary& added() const { return added_; }
  const BpeModel& model() const { return model_; }
  const Normalizer& normalizer() const { return normalizer_; }
  const PreTokenizer& pre_tokenizer() const { return pre_tokenizer_; }
  const Decoder& decoder() const { return decoder_; }
  // The ids the post-processor puts before and after one sequence.
  const std::vector<TokenId>& template_prefix() const { return template_prefix_; }
  const std::vector<TokenId>& template_suffix() const { return template_suffix_; }
  // 64-bit FNV-1a of the file's JSON re-serialized compactly with sorted keys: equal for files
  // that differ only in formatting or key order.
  uint64_t hash() const { return hash_; }
  // Things the loader accepted but the user should know (ignored truncation, id warnings).
  const std::vector<std::string>& notices() const { return notices_; }

 private:
  friend class Encoder;
  friend class TokenizerLoader;

  AddedVocabulary added_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  BpeModel model_;
  Decoder decoder_;
  std::vector<TokenId> template_prefix_;  // post-processor ids around one sequence
  std::vector<TokenId> template_suffix_;
  uint32_t vocab_size_ = 0;
  uint64_t hash_ = 0;
  std::vector<std::string> notices_;
};

// Per-thread encoding state: regex match data, BPE work area and a cache of encoded pieces.
class Encoder {
 public:
  // special_tokens_as_text: special added tokens in the text are not recognized, their text is
  // encoded like any other (the library's encode_special_tokens mode; nanoGPT's encode_ordinary).
  // Training data is encoded this way so that a literal "<|endoftext|>" cannot end a document.
  explicit Encoder(const Tokenizer& tokenizer, bool special_tokens_as_text = false);

  // Appends the ids of text. Fails on invalid UTF-8 (naming the byte) or a regex that PCRE2 gave
  // up on; never on well-formed text with the tokenizers shipped by osp.
  Status encode(std::string_view text, std::vector<TokenId>& out, bool add_special_tokens = true);

  // Characters dropped so far because they had no vocab entry and there is no unk_token.
  size_t dropped_characters() const { return bpe_.dropped; }

 private:
  // at_origin: text starts at offset 0 of the input (see PreTokenizer::split).
  Status encode_plain(std::string_view text, bool at_origin, std::vector<TokenId>& out);
  void encode_piece(std::string_view piece, std::vector<TokenId>& out);

  const Tokenizer* tok_;
  bool special_as_text_;
  PreTokenizeScratch pre_;
  BpeScratch bpe_;
  Pieces pieces_;
  std::vector<Segment> raw_segments_, normalized_segments_;
  std::string normalized_;
  std::unordered_map<std::string, std::vector<TokenId>, StringHash, std::equal_to<>> cache_;
};

}  // namespace osp::data
