// UTF-8 helpers and the GPT-2 byte map: spec examples (formats.md §4.5), the maximal-subpart
// repair rule, and round trips on fresh random bytes.
#include <gtest/gtest.h>

#include <random>

#include "common/fresh_seed.h"
#include "data/byte_level.h"
#include "data/utf8.h"

namespace osp::data {
namespace {

TEST(ByteLevel, SpecExamples) {
  EXPECT_EQ(byte_to_char(0), U'\u0100');
  EXPECT_EQ(byte_to_char(9), U'\u0109');
  EXPECT_EQ(byte_to_char(10), U'\u010A');
  EXPECT_EQ(byte_to_char(13), U'\u010D');
  EXPECT_EQ(byte_to_char(32), U'\u0120');
  EXPECT_EQ(byte_to_char(127), U'\u0121');
  EXPECT_EQ(byte_to_char(128), U'\u0122');
  EXPECT_EQ(byte_to_char(160), U'\u0142');
  EXPECT_EQ(byte_to_char(173), U'\u0143');
  EXPECT_EQ(byte_to_char('a'), U'a');
  EXPECT_EQ(byte_to_char(0xFF), U'\u00FF');
}

TEST(ByteLevel, IsABijection) {
  std::vector<bool> seen(0x200, false);
  for (int b = 0; b < 256; ++b) {
    const char32_t c = byte_to_char(static_cast<uint8_t>(b));
    ASSERT_LT(c, 0x200u);
    EXPECT_FALSE(seen[c]) << "byte " << b;
    seen[c] = true;
    EXPECT_EQ(char_to_byte(c), b);
  }
  EXPECT_EQ(char_to_byte(U' '), -1);
  EXPECT_EQ(char_to_byte(U'\u0144'), -1);
  EXPECT_EQ(char_to_byte(U'\u4E00'), -1);
}

TEST(ByteLevel, RandomBytesRoundTrip) {
  const uint64_t seed = osp::test::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 200; ++trial) {
    std::string raw(rng() % 300, '\0');
    for (char& c : raw) c = static_cast<char>(rng());
    std::string mapped, back;
    bytes_to_byte_level(raw, mapped);
    EXPECT_EQ(utf8_first_invalid(mapped), std::string_view::npos);
    EXPECT_EQ(mapped.find(' '), std::string::npos);
    ASSERT_TRUE(byte_level_to_bytes(mapped, back));
    EXPECT_EQ(back, raw);
  }
}

TEST(Utf8, DecodeAndAppendAgreeOnAllScalars) {
  for (char32_t cp = 0; cp <= 0x10FFFF; cp += (cp < 0x3000 ? 1 : 97)) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string s;
    utf8_append(s, cp);
    char32_t back = 0;
    ASSERT_EQ(utf8_decode(s, 0, &back), static_cast<int>(s.size()));
    ASSERT_EQ(back, cp);
  }
}

TEST(Utf8, RejectsIllFormed) {
  char32_t cp;
  EXPECT_EQ(utf8_decode("\x80", 0, &cp), -1);              // lone continuation
  EXPECT_EQ(utf8_decode("\xC0\xAF", 0, &cp), -1);          // overlong lead
  EXPECT_EQ(utf8_decode("\xE0\x80\x80", 0, &cp), -1);      // overlong 3-byte
  EXPECT_EQ(utf8_decode("\xED\xA0\x80", 0, &cp), -1);      // surrogate
  EXPECT_EQ(utf8_decode("\xF4\x90\x80\x80", 0, &cp), -1);  // above U+10FFFF
  EXPECT_EQ(utf8_decode("\xE2\x82", 0, &cp), -2);          // truncated: maximal subpart of 2
  EXPECT_EQ(utf8_decode("\xF0\x9F\x98", 0, &cp), -3);
  EXPECT_EQ(utf8_first_invalid("abc\xFF"), 3u);
  EXPECT_EQ(utf8_first_invalid("h\xC3\xA9llo"), std::string_view::npos);
}

TEST(Utf8, RepairReplacesMaximalSubparts) {
  // Unicode §3.9 example: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 -> a U U U b U c U U d.
  size_t n = 0;
  const std::string repaired = utf8_repair(
      "a\xF1\x80\x80\xE1\x80\xC2"
      "b\x80"
      "c\x80\xBF"
      "d",
      &n);
  EXPECT_EQ(repaired, "a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd");
  EXPECT_EQ(n, 6u);
}

TEST(Utf8, WhiteSpaceProperty) {
  for (char32_t c : {U'\t', U'\n', U'\v', U'\f', U'\r', U' ', U'\u0085', U'\u00A0', U'\u1680',
                     U'\u2000', U'\u200A', U'\u2028', U'\u2029', U'\u202F', U'\u205F', U'\u3000'})
    EXPECT_TRUE(is_white_space(c)) << static_cast<uint32_t>(c);
  for (char32_t c : {U'a', U'\u180E', U'\u200B', U'\uFEFF', U'\u0000', U'\u001F'})
    EXPECT_FALSE(is_white_space(c)) << static_cast<uint32_t>(c);
}

}  // namespace
}  // namespace osp::data
