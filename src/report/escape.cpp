// HTML escaping and number formatting for the report.
#include "report/escape.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace osp::report {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = static_cast<uint8_t>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0)
    n = 2, cp = b & 0x1F;
  else if ((b & 0xF0) == 0xE0)
    n = 3, cp = b & 0x0F;
  else if ((b & 0xF8) == 0xF0)
    n = 4, cp = b & 0x07;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<uint8_t>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  // Reject overlong forms, surrogates and code points past U+10FFFF.
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    const size_t n = utf8_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\t':
      case '\n':
      case '\r':
        out += c;
        break;
      default:
        if (static_cast<uint8_t>(c) < 0x20 || c == 0x7F)
          out += "\xEF\xBF\xBD";
        else
          out += c;
    }
    ++i;
  }
  return out;
}

std::string format_number(double v, int digits) {
  if (std::isnan(v)) return "\xE2\x80\x94";  // em dash
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const double a = std::fabs(v);
  if (a != 0 && (a >= 1e4 || a < 1e-3)) {
    std::string s = fmt::format("{:.{}e}", v, 1);
    // "8.0e+04" -> "8e4": the paper's style, and shorter in a table.
    const size_t e = s.find('e');
    std::string mant = s.substr(0, e);
    if (mant.size() > 2 && mant.ends_with(".0")) mant.resize(mant.size() - 2);
    const int exp = std::stoi(s.substr(e + 1));
    return fmt::format("{}e{}", mant, exp);
  }
  // Hundreds and above keep one decimal (1818.6, 114.6) rather than rounding to integers.
  if (a >= 100) return fmt::format("{:.1f}", v);
  return fmt::format("{:.{}g}", v, digits);
}

}  // namespace osp::report
