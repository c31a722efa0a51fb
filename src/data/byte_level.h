// The GPT-2 byte-to-unicode map (formats.md §4.5): every byte value gets a printable character so
// that byte-level BPE tokens are valid, space-free strings.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace osp::data {

// Code point that byte b maps to.
char32_t byte_to_char(uint8_t b);

// Byte that code point cp stands for, or -1 when cp is not one of the 256 mapped characters.
int char_to_byte(char32_t cp);

// Maps every byte of raw to its character, UTF-8 encoded, appending to out.
void bytes_to_byte_level(std::string_view raw, std::string& out);

// Inverse of bytes_to_byte_level: returns false (leaving out partially written) when text has a
// character outside the map or is not valid UTF-8.
bool byte_level_to_bytes(std::string_view text, std::string& out);

}  // namespace osp::data
