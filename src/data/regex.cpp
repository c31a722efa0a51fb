// PCRE2 wrapper (see regex.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "data/regex.h"

#include <pcre2.h>

#include "data/utf8.h"

namespace osp::data {
namespace {

// Oniguruma's \s is Unicode White_Space; PCRE2 with UCP adds U+180E (via \h). Rewriting the two
// escapes keeps every other construct, inside or outside character classes, untouched.
std::string rewrite_space_escapes(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 32);
  bool quoted = false;  // inside \Q ... \E nothing is an escape
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c != '\\' || i + 1 == pattern.size()) {
      out.push_back(c);
      continue;
    }
    const char next = pattern[i + 1];
    if (quoted) {
      if (next == 'E') quoted = false;
      out.push_back(c);
      continue;
    }
    if (next == 'Q') quoted = true;
    if (next == 's') {
      out += "\\p{White_Space}";
    } else if (next == 'S') {
      out += "\\P{White_Space}";
    } else {
      out.push_back(c);
      out.push_back(next);
    }
    ++i;
  }
  return out;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

RegexScratch::RegexScratch() {
  match_data_ = pcre2_match_data_create(1, nullptr);
  context_ = pcre2_match_context_create(nullptr);
  jit_stack_ = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
  OSP_CHECK(match_data_ != nullptr && context_ != nullptr && jit_stack_ != nullptr,
            "PCRE2 allocation failed");
  pcre2_jit_stack_assign(context_, nullptr, jit_stack_);
}

RegexScratch::~RegexScratch() {
  pcre2_jit_stack_free(jit_stack_);
  pcre2_match_context_free(context_);
  pcre2_match_data_free(match_data_);
}

Result<Regex> Regex::compile(std::string_view pattern, bool literal) {
  const std::string source = literal ? std::string(pattern) : rewrite_space_escapes(pattern);
  // PCRE2_LITERAL admits few other options (UCP is not one of them, and has no use there).
  const uint32_t options = PCRE2_UTF | PCRE2_NO_UTF_CHECK | (literal ? PCRE2_LITERAL : PCRE2_UCP);
  if (utf8_first_invalid(source) != std::string_view::npos)
    return make_error("regex '{}' is not valid UTF-8", pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                                   options, &error, &offset, nullptr);
  if (code == nullptr)
    return make_error("regex '{}' is not supported by PCRE2: {} at offset {}", pattern,
                      pcre2_message(error), offset);
  // Without JIT support PCRE2 falls back to its interpreter, with the same results.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  Regex regex;
  regex.code_ = std::shared_ptr<pcre2_code>(code, pcre2_code_free);
  regex.pattern_ = std::string(pattern);
  return regex;
}

Status Regex::find_all(std::string_view text, RegexScratch& scratch, std::vector<Span>& out) const {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t n = text.size();
  size_t search_from = 0;
  bool have_previous = false;
  size_t previous_end = 0;
  while (search_from <= n) {
    const int rc = pcre2_match(code_.get(), subject, n, search_from, PCRE2_NO_UTF_CHECK,
                               scratch.match_data_, scratch.context_);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0)
      return make_error("regex '{}' failed at byte {}: {}", pattern_, search_from,
                        pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(scratch.match_data_);
    const size_t begin = ov[0], end = ov[1];
    if (begin > end || end > n)
      return make_error("regex '{}' reported a match that ends before it starts", pattern_);
    if (begin == end && have_previous && previous_end == end) {
      // Oniguruma's iterator: step over one character so the same empty match is not repeated.
      search_from += search_from < n ? static_cast<size_t>(utf8_length_from_lead(
                                           static_cast<unsigned char>(text[search_from])))
                                     : 1;
      continue;
    }
    search_from = end;
    have_previous = true;
    previous_end = end;
    out.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(end)});
  }
  return {};
}

Status Regex::replace_all(std::string& text, std::string_view content, RegexScratch& scratch) const {
  std::vector<Span> matches;
  OSP_TRY(find_all(text, scratch, matches));
  if (matches.empty()) return {};
  std::string out;
  size_t last = 0;
  for (const Span& m : matches) {
    out.append(text, last, m.begin - last);
    out += content;
    last = m.end;
  }
  out.append(text, last, std::string::npos);
  text = std::move(out);
  return {};
}

bool Regex::matches_at_start(std::string_view text, RegexScratch& scratch) const {
  const int rc =
      pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0,
                  PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED, scratch.match_data_, scratch.context_);
  return rc >= 0;
}

}  // namespace osp::data
