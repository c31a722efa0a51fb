// Pre-tokenizers of tokenizer.json (formats.md §4.4): ByteLevel, Split, Digits, Metaspace, in
// sequence. They
// cut normalized text into pieces; BPE then runs on each piece on its own.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "data/regex.h"

namespace osp::data {

// The GPT-2 split regex that ByteLevel applies when use_regex is true.
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// The Llama-3 split regex (used in a Split before a ByteLevel without regex).
inline constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Metaspace's prepend_scheme: when the replacement is put before a piece that lacks it.
enum class PrependScheme { kAlways, kFirst, kNever };

struct PreTokenizerStep {
  enum class Kind { kByteLevel, kSplit, kMetaspace };
  Kind kind = Kind::kSplit;
  bool add_prefix_space = false;  // ByteLevel
  bool use_regex = false;         // ByteLevel: split with kGpt2Pattern first
  Regex regex;  // Split pattern, the GPT-2 regex for ByteLevel, the replacement for Metaspace
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  std::string replacement;  // Metaspace: what spaces become (one character, UTF-8)
  PrependScheme prepend = PrependScheme::kAlways;
  bool metaspace_split = true;  // Metaspace: split before each replacement
};

// Pieces of text: spans into one buffer, so splitting allocates nothing in steady state.
struct Pieces {
  std::string text;
  std::vector<Span> spans;
  void clear() {
    text.clear();
    spans.clear();
  }
  void add(std::string_view piece) {
    spans.push_back(
        {static_cast<uint32_t>(text.size()), static_cast<uint32_t>(text.size() + piece.size())});
    text += piece;
  }
  std::string_view piece(size_t i) const {
    return std::string_view(text).substr(spans[i].begin, spans[i].end - spans[i].begin);
  }
  size_t size() const { return spans.size(); }
};

struct PreTokenizeScratch {
  RegexScratch regex;
  Pieces swap;
  std::vector<Span> matches;
  std::string mapped;
};

class PreTokenizer {
 public:
  void add(PreTokenizerStep step) { steps_.push_back(std::move(step)); }
  bool empty() const { return steps_.empty(); }
  const std::vector<PreTokenizerStep>& steps() const { return steps_; }

  // True when the last step is a ByteLevel: its byte-to-character mapping is then left to the
  // BPE model, which looks bytes up directly (same result, no 2x text expansion).
  bool output_is_raw_bytes() const {
    return !steps_.empty() && steps_.back().kind == PreTokenizerStep::Kind::kByteLevel;
  }

  // Cuts text (valid UTF-8) into pieces, appended to out. Empty pieces are dropped. at_origin:
  // text starts at offset 0 of the input (Metaspace's "first" scheme prepends only there).
  Status split(std::string_view text, Pieces& out, PreTokenizeScratch& scratch,
               bool at_origin = true) const;

 private:
  std::vector<PreTokenizerStep> steps_;
};

}  // namespace osp::data
