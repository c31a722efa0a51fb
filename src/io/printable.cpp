// Escaping of untrusted text for error messages (see printable.h).
#include "io/printable.h"

#include <fmt/format.h>

namespace osp::io {

std::string printable(std::string_view text, size_t max_len, bool ascii_only) {
  size_t len = text.size();
  const bool cut = len > max_len;
  if (cut) {
    len = max_len;
    // Do not split a UTF-8 sequence: back off over continuation bytes (10xxxxxx).
    while (len > 0 && (static_cast<unsigned char>(text[len]) & 0xc0u) == 0x80u) --len;
  }
  std::string out;
  out.reserve(len + 8);
  for (size_t i = 0; i < len; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f || (ascii_only && c >= 0x80))
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  if (cut) out += "...";
  return out;
}

}  // namespace osp::io
