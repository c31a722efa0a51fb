// Added tokens (formats.md §4.2): strings matched in the input before the model sees it, each
// becoming its id directly. Matching follows the tokenizers library's AddedVocabulary:
// leftmost-longest, non-overlapping, with single_word / lstrip / rstrip adjustments.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "data/regex.h"

namespace osp::data {

using TokenId = uint32_t;

struct AddedToken {
  TokenId id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
  // What a normalized token is matched against: its content after the normalizer.
  std::string match_text;
};

// A part of a text: plain text (token < 0) or an added token's match.
struct Segment {
  uint32_t begin = 0;
  uint32_t end = 0;
  int64_t token = -1;
};

class AddedVocabulary {
 public:
  AddedVocabulary();

  // Installs the tokens (ids final, match_text filled in).
  void set(std::vector<AddedToken> tokens);

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  bool has_tokens(bool normalized) const { return !sets_[normalized ? 1 : 0].patterns.empty(); }
  const AddedToken* find_id(TokenId id) const;
  const AddedToken* find_content(std::string_view content) const;
  bool is_special(std::string_view content) const {
    return special_.count(std::string(content)) > 0;
  }

  // Splits text by the normalized (or the raw) tokens; appends segments covering the text.
  // special_as_text: special tokens are not matched (their text is encoded like any other), the
  // tokenizers library's encode_special_tokens mode.
  void split(std::string_view text, bool normalized, bool special_as_text,
             std::vector<Segment>& out, RegexScratch& scratch) const;

 private:
  struct MatchSet {
    std::vector<size_t> patterns;                   // indices into tokens_
    std::array<std::vector<size_t>, 256> by_first;  // per first byte, longest first
  };
  bool longest_match_at(const MatchSet& set, std::string_view text, size_t pos,
                        size_t* token_index) const;
  bool ends_with_word(std::string_view text, RegexScratch& scratch) const;
  bool starts_with_word(std::string_view text, RegexScratch& scratch) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<TokenId, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
  std::unordered_set<std::string> special_;
  std::array<MatchSet, 2> sets_;
  Regex word_char_;  // Rust regex's Unicode \w, for single_word
};

}  // namespace osp::data
