// Normalizers of tokenizer.json (formats.md §4.3): NFC, NFD, NFKC, NFKD (utf8proc), Lowercase,
// Strip, StripAccents, Replace, Prepend, applied in sequence.
#pragma once
#include <string>
#include <vector>

#include "core/result.h"
#include "data/regex.h"

namespace osp::data {

enum class NormalizerKind {
  kNfc,
  kNfd,
  kNfkc,
  kNfkd,
  kLowercase,
  kStrip,
  kStripAccents,
  kReplace,
  kPrepend
};

struct NormalizerStep {
  NormalizerKind kind = NormalizerKind::kNfc;
  bool strip_left = false, strip_right = false;  // Strip
  Regex pattern;                                 // Replace (literal for the String form)
  std::string content;                           // Replace: replacement; Prepend: prefix
};

class Normalizer {
 public:
  void add(NormalizerStep step) { steps_.push_back(std::move(step)); }
  bool empty() const { return steps_.empty(); }

  // Normalizes text in place (text is valid UTF-8 and stays so).
  Status apply(std::string& text, RegexScratch& scratch) const;

 private:
  std::vector<NormalizerStep> steps_;
};

}  // namespace osp::data
