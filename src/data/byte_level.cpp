// GPT-2 byte-to-unicode map (see byte_level.h).
#include "data/byte_level.h"

#include "data/utf8.h"

namespace osp::data {
namespace {

struct ByteMap {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> utf8{};
  ByteMap() {
    // The 188 printable bytes keep their value; the other 68, in increasing order, get
    // U+0100 + n (formats.md §4.5).
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
      to_char[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(0x100 + n++);
      utf8_append(utf8[b], to_char[b]);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

}  // namespace

char32_t byte_to_char(uint8_t b) { return byte_map().to_char[b]; }

int char_to_byte(char32_t cp) {
  if (cp < 256) {
    const bool printable = (cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || cp >= 174;
    return printable ? static_cast<int>(cp) : -1;
  }
  if (cp >= 0x100 && cp < 0x100 + 68) {
    // Inverse of the counter in ByteMap: the n-th non-printable byte.
    static const auto table = [] {
      std::array<uint8_t, 68> t{};
      int n = 0;
      for (int b = 0; b < 256; ++b)
        if (byte_map().to_char[b] >= 0x100) t[n++] = static_cast<uint8_t>(b);
      return t;
    }();
    return table[cp - 0x100];
  }
  return -1;
}

void bytes_to_byte_level(std::string_view raw, std::string& out) {
  const auto& map = byte_map();
  for (const char c : raw) out += map.utf8[static_cast<uint8_t>(c)];
}

bool byte_level_to_bytes(std::string_view text, std::string& out) {
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    const int len = utf8_decode(text, i, &cp);
    if (len < 0) return false;
    const int b = char_to_byte(cp);
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
    i += static_cast<size_t>(len);
  }
  return true;
}

}  // namespace osp::data
