// Regular expressions for normalizers and pre-tokenizers: PCRE2 in UTF + UCP mode, JIT-compiled,
// iterated the way the tokenizers library iterates its Oniguruma matches.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;
struct pcre2_real_match_context_8;
struct pcre2_real_jit_stack_8;

namespace osp::data {

// A byte range [begin, end) of a text.
struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// Per-thread match state (match data, JIT stack). One scratch serves every Regex.
class RegexScratch {
 public:
  RegexScratch();
  ~RegexScratch();
  RegexScratch(const RegexScratch&) = delete;
  RegexScratch& operator=(const RegexScratch&) = delete;

 private:
  friend class Regex;
  pcre2_real_match_data_8* match_data_ = nullptr;
  pcre2_real_match_context_8* context_ = nullptr;
  pcre2_real_jit_stack_8* jit_stack_ = nullptr;
};

class Regex {
 public:
  // Compiles a pattern (literal: match the text itself). `\s` and `\S` are rewritten to Unicode
  // White_Space, which is what Oniguruma means by them (PCRE2's \s also takes U+180E).
  static Result<Regex> compile(std::string_view pattern, bool literal = false);

  // Appends to out every match in text, in order, with the tokenizers library's rule for empty
  // matches: an empty match right where the previous match ended is skipped and the search moves
  // on by one character. text must be valid UTF-8. Fails only when PCRE2 gives up (match limits).
  Status find_all(std::string_view text, RegexScratch& scratch, std::vector<Span>& out) const;

  // Replaces every match (find_all's) in text by content: the Replace normalizer and decoder.
  Status replace_all(std::string& text, std::string_view content, RegexScratch& scratch) const;

  // Whether the pattern matches at the very start of text (for one-character class tests).
  bool matches_at_start(std::string_view text, RegexScratch& scratch) const;

  const std::string& pattern() const { return pattern_; }

 private:
  std::shared_ptr<pcre2_real_code_8> code_;
  std::string pattern_;
};

}  // namespace osp::data
