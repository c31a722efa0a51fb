// The decoder of tokenizer.json (formats.md §4.7): token strings back to text through a chain of
// steps, each the tokenizers library's decode_chain (a list of strings in, a list out), joined at
// the end. ByteLevel, ByteFallback, Fuse, Strip, Replace and Metaspace, in any order.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "data/regex.h"

namespace osp::data {

struct DecoderStep {
  enum class Kind { kByteLevel, kByteFallback, kFuse, kStrip, kReplace, kMetaspace };
  Kind kind = Kind::kFuse;
  char32_t character = 0;        // Strip: the character cut; Metaspace: the replacement
  size_t start = 0, stop = 0;    // Strip: at most this many from each end
  Regex pattern;                 // Replace (literal for the String form)
  std::string content;           // Replace: what each match becomes
  bool first_drops_meta = true;  // Metaspace: prepend_scheme is not "never"
};

class Decoder {
 public:
  // A tokenizer without a decoder joins its tokens with spaces; with one (even an empty
  // Sequence) the chain's output is joined with nothing.
  void set_present() { present_ = true; }
  void add(DecoderStep step) {
    present_ = true;
    steps_.push_back(std::move(step));
  }
  bool present() const { return present_; }
  const std::vector<DecoderStep>& steps() const { return steps_; }

  std::string decode(std::vector<std::string> tokens) const;

 private:
  bool present_ = false;
  std::vector<DecoderStep> steps_;
};

}  // namespace osp::data
