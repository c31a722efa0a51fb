// UTF-8 decoding, encoding and repair, and the few Unicode character predicates the tokenizer
// needs outside regexes (White_Space, used by added-token stripping and the Strip normalizer).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace osp::data {

// Decodes the code point starting at text[pos]. Returns its byte length (1-4) and stores it in
// *cp, or returns -n when the bytes at pos are ill-formed, n being the length of the maximal
// subpart (Unicode §3.9, the unit that one U+FFFD replaces).
int utf8_decode(std::string_view text, size_t pos, char32_t* cp);

// Appends the UTF-8 encoding of cp (which must be a Unicode scalar value).
void utf8_append(std::string& out, char32_t cp);

// Byte length of the well-formed code point starting with lead byte b (1 for ill-formed leads).
inline int utf8_length_from_lead(unsigned char b) {
  return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

// Offset of the first ill-formed byte, or npos when text is valid UTF-8.
size_t utf8_first_invalid(std::string_view text);

// Replaces each maximal ill-formed subpart by U+FFFD, as Rust's String::from_utf8_lossy and
// Python's bytes.decode(errors="replace") do. *replaced (if given) counts the replacements.
std::string utf8_repair(std::string_view bytes, size_t* replaced = nullptr);

// Unicode White_Space (Rust's char::is_whitespace): 24 code points, fixed since Unicode 6.3.
bool is_white_space(char32_t cp);

}  // namespace osp::data
