// Normalizers (see normalizer.h). Unicode normalization forms come from utf8proc, a mature
// packaged implementation, instead of hand-written tables.
#include "data/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>

#include "data/utf8.h"

namespace osp::data {
namespace {

bool is_ascii(const std::string& text) {
  for (const char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

Status unicode_normalize(std::string& text, NormalizerKind kind) {
  // ASCII is invariant under all four forms.
  if (is_ascii(text)) return {};
  int options = UTF8PROC_STABLE;
  switch (kind) {
    case NormalizerKind::kNfc:
      options |= UTF8PROC_COMPOSE;
      break;
    case NormalizerKind::kNfd:
      options |= UTF8PROC_DECOMPOSE;
      break;
    case NormalizerKind::kNfkc:
      options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
      break;
    default:
      options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
      break;
  }
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                                          static_cast<utf8proc_option_t>(options));
  if (n < 0) return make_error("Unicode normalization failed: {}", utf8proc_errmsg(n));
  text.assign(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n));
  std::free(mapped);
  return {};
}

// Rust's char::to_lowercase, which the tokenizers library applies per character: the simple
// mapping, except U+0130 whose full lowercase is two characters (SpecialCasing.txt).
void lowercase(std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    const int len = utf8_decode(text, i, &cp);
    i += static_cast<size_t>(len);
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
    } else if (cp == 0x130) {
      out += "i\xCC\x87";
    } else {
      utf8_append(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
  }
  text = std::move(out);
}

void strip(std::string& text, bool left, bool right) {
  size_t begin = 0, end = text.size();
  if (left) {
    while (begin < end) {
      char32_t cp;
      const int len = utf8_decode(text, begin, &cp);
      if (!is_white_space(cp)) break;
      begin += static_cast<size_t>(len);
    }
  }
  if (right) {
    while (end > begin) {
      size_t start = end - 1;
      while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
      char32_t cp;
      utf8_decode(text, start, &cp);
      if (!is_white_space(cp)) break;
      end = start;
    }
  }
  text = text.substr(begin, end - begin);
}

// StripAccents removes combining marks (general category M).
void strip_accents(std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    const int len = utf8_decode(text, i, &cp);
    const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    if (cat != UTF8PROC_CATEGORY_MN && cat != UTF8PROC_CATEGORY_MC && cat != UTF8PROC_CATEGORY_ME)
      out.append(text, i, static_cast<size_t>(len));
    i += static_cast<size_t>(len);
  }
  text = std::move(out);
}

}  // namespace

Status Normalizer::apply(std::string& text, RegexScratch& scratch) const {
  for (const NormalizerStep& step : steps_) {
    switch (step.kind) {
      case NormalizerKind::kNfc:
      case NormalizerKind::kNfd:
      case NormalizerKind::kNfkc:
      case NormalizerKind::kNfkd:
        OSP_TRY(unicode_normalize(text, step.kind));
        break;
      case NormalizerKind::kLowercase:
        lowercase(text);
        break;
      case NormalizerKind::kStrip:
        strip(text, step.strip_left, step.strip_right);
        break;
      case NormalizerKind::kStripAccents:
        strip_accents(text);
        break;
      case NormalizerKind::kReplace:
        OSP_TRY(step.pattern.replace_all(text, step.content, scratch));
        break;
      case NormalizerKind::kPrepend:
        if (!text.empty()) text.insert(0, step.content);
        break;
    }
  }
  return {};
}

}  // namespace osp::data
