// The BPE merge loop and the encode/decode pipeline on small hand-made tokenizers, where the
// expected tokens follow from the rules of formats.md §4.6 by hand.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "data/tokenizer.h"

namespace osp::data {
namespace {

using Json = nlohmann::json;

// A tokenizer with no normalizer or pre-tokenizer: the whole text is one piece.
Json tiny(const std::vector<std::string>& tokens, const std::vector<std::string>& merges) {
  Json vocab = Json::object();
  for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  return {{"version", "1.0"},
          {"added_tokens", Json::array()},
          {"normalizer", nullptr},
          {"pre_tokenizer", nullptr},
          {"post_processor", nullptr},
          {"decoder", nullptr},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"ignore_merges", false},
            {"vocab", vocab},
            {"merges", merges}}}};
}

Tokenizer load(const Json& j) {
  auto tok = Tokenizer::from_json(j.dump(), "tiny.json");
  EXPECT_TRUE(tok.ok()) << tok.error().message;
  return std::move(tok).value();
}

std::vector<std::string> tokens_of(const Tokenizer& tok, std::string_view text) {
  auto ids = tok.encode(text);
  EXPECT_TRUE(ids.ok());
  std::vector<std::string> out;
  for (const TokenId id : *ids) out.push_back(tok.id_to_token(id).value_or("?"));
  return out;
}

using Strings = std::vector<std::string>;

TEST(BpeModel, LowestRankMergesFirst) {
  const Tokenizer tok = load(tiny({"a", "b", "c", "ab", "bc", "abc"}, {"b c", "a b", "ab c"}));
  // (b, c) has rank 0 < rank 1 of (a, b): a + bc, and (a, bc) is no merge.
  EXPECT_EQ(tokens_of(tok, "abc"), (Strings{"a", "bc"}));
  EXPECT_EQ(tokens_of(tok, "ab"), (Strings{"ab"}));
  EXPECT_EQ(tokens_of(tok, "cab"), (Strings{"c", "ab"}));
}

TEST(BpeModel, LeftmostAmongEqualRanks) {
  const Tokenizer tok = load(tiny({"a", "aa", "aaaa"}, {"a a", "aa aa"}));
  EXPECT_EQ(tokens_of(tok, "aaa"), (Strings{"aa", "a"}));
  EXPECT_EQ(tokens_of(tok, "aaaaa"), (Strings{"aaaa", "a"}));
  EXPECT_EQ(tokens_of(tok, "aaaaaa"), (Strings{"aaaa", "aa"}));
}

TEST(BpeModel, MergesMayCreateAPairWithALowerRank) {
  // After x + y -> xy (rank 1), (xy, z) of rank 0 must be merged before (z, w) of rank 2.
  const Tokenizer tok = load(tiny({"x", "y", "z", "w", "xy", "xyz", "zw"}, {"xy z", "x y", "z w"}));
  EXPECT_EQ(tokens_of(tok, "xyzw"), (Strings{"xyz", "w"}));
}

TEST(BpeModel, PairAndStringMergesAreTheSame) {
  Json pairs = tiny({"a", "b", "c", "ab", "abc"}, {});
  pairs["model"]["merges"] = Json::array({Json::array({"a", "b"}), Json::array({"ab", "c"})});
  const Json strings = tiny({"a", "b", "c", "ab", "abc"}, {"a b", "ab c"});
  EXPECT_EQ(load(pairs).encode("abcab").value(), load(strings).encode("abcab").value());
  EXPECT_EQ(tokens_of(load(pairs), "abcab"), (Strings{"abc", "ab"}));
}

TEST(BpeModel, UnknownCharacters) {
  Json j = tiny({"<unk>", "a", "b"}, {});
  {
    const Tokenizer tok = load(j);  // no unk_token: dropped and counted
    Encoder enc(tok);
    std::vector<TokenId> ids;
    ASSERT_TRUE(enc.encode("axy\u00e9b", ids).ok());
    EXPECT_EQ(ids, (std::vector<TokenId>{1, 2}));
    EXPECT_EQ(enc.dropped_characters(), 3u);
  }
  j["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(load(j).encode("axyb").value(), (std::vector<TokenId>{1, 0, 0, 2}));
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(load(j).encode("axyb").value(), (std::vector<TokenId>{1, 0, 2}));
  EXPECT_EQ(load(j).encode("xy").value(), (std::vector<TokenId>{0}));
}

// The tokenizers library's merge_word: a missing character becomes the <0xNN> tokens of its
// UTF-8 bytes when all exist, else unk; a pending unk is not flushed by a byte-fallback hit.
TEST(BpeModel, ByteFallback) {
  // 0 <unk>, 1 a, 2 <0xC3>, 3 <0xA9> (é = C3 A9), 4 <0x78> (x); ü = C3 BC has no <0xBC>.
  Json j = tiny({"<unk>", "a", "<0xC3>", "<0xA9>", "<0x78>", "<0xc3>"}, {});
  j["model"]["byte_fallback"] = true;
  EXPECT_EQ(load(j).encode("a\u00e9x").value(), (std::vector<TokenId>{1, 2, 3, 4}));
  EXPECT_EQ(load(j).encode("\u00fc").value(), (std::vector<TokenId>{}));  // no unk: dropped
  j["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(load(j).encode("\u00fc").value(), (std::vector<TokenId>{0}));
  // ü is unknown (pending), é falls back to bytes, then a flushes the pending unk.
  EXPECT_EQ(load(j).encode("\u00fc\u00e9a").value(), (std::vector<TokenId>{2, 3, 0, 1}));
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(load(j).encode("\u00fc\u00fc\u00e9").value(), (std::vector<TokenId>{2, 3, 0}));
}

TEST(Tokenizer, DecoderChainsLikeTheLibrary) {
  Json j = tiny({"\u2581a", "b", "<0xC3>", "<0xA9>", "<0xFF>", "\u2581"}, {});
  j["decoder"] = {{"type", "Sequence"},
                  {"decoders",
                   {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                    {{"type", "ByteFallback"}},
                    {{"type", "Fuse"}},
                    {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  const Tokenizer tok = load(j);
  EXPECT_EQ(tok.decode(std::vector<TokenId>{0, 2, 3, 1, 0}), "a\u00e9b a");
  EXPECT_EQ(tok.decode(std::vector<TokenId>{2, 4, 1}), "\uFFFD\uFFFDb");  // one U+FFFD per byte
  j["decoder"] = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"}};
  EXPECT_EQ(load(j).decode(std::vector<TokenId>{5, 0, 0}), " a a");  // the first token loses its ▁
  j["decoder"]["prepend_scheme"] = "never";
  EXPECT_EQ(load(j).decode(std::vector<TokenId>{5, 0}), "  a");
}

TEST(BpeModel, IgnoreMergesTakesWholeVocabEntries) {
  Json j = tiny({"a", "b", "c", "abc"}, {});
  EXPECT_EQ(tokens_of(load(j), "abc"), (Strings{"a", "b", "c"}));
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(tokens_of(load(j), "abc"), (Strings{"abc"}));
  EXPECT_EQ(tokens_of(load(j), "abca"), (Strings{"a", "b", "c", "a"}));
}

TEST(Tokenizer, DecodeWithoutDecoderJoinsWithSpaces) {
  const Tokenizer tok = load(tiny({"a", "b", "ab"}, {"a b"}));
  const std::vector<TokenId> ids = {2, 0, 99};  // 99 is unknown: skipped
  EXPECT_EQ(tok.decode(ids), "ab a");
}

TEST(Tokenizer, AddedTokensSplitTheText) {
  Json j = tiny({"a", "b", "<s>"}, {});
  j["added_tokens"] = Json::array({{{"id", 2},
                                    {"content", "<s>"},
                                    {"single_word", false},
                                    {"lstrip", false},
                                    {"rstrip", true},
                                    {"normalized", false},
                                    {"special", true}},
                                   {{"id", 3},
                                    {"content", "ab"},
                                    {"single_word", true},
                                    {"lstrip", false},
                                    {"rstrip", false},
                                    {"normalized", true},
                                    {"special", false}}});
  const Tokenizer tok = load(j);
  EXPECT_EQ(tok.vocab_size(), 4u);
  // rstrip: the token absorbs the spaces after it; single_word: "ab" inside "aab" is no match.
  EXPECT_EQ(tok.encode("a<s>  b").value(), (std::vector<TokenId>{0, 2, 1}));
  EXPECT_EQ(tok.encode("ab").value(), (std::vector<TokenId>{3}));
  EXPECT_EQ(tok.encode("aab").value(), (std::vector<TokenId>{0, 0, 1}));
  const std::vector<TokenId> ids = {2, 0, 3};
  EXPECT_EQ(tok.decode(ids, true), "a ab");
  EXPECT_EQ(tok.decode(ids, false), "<s> a ab");
}

TEST(Tokenizer, TemplateAddsBosOnlyWhenAsked) {
  Json j = tiny({"a", "<bos>"}, {});
  j["post_processor"] = Json::parse(R"({"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "pair": [], "special_tokens": {"<bos>": {"id": "<bos>", "ids": [1], "tokens": ["<bos>"]}}})");
  const Tokenizer tok = load(j);
  EXPECT_EQ(tok.encode("aa", true).value(), (std::vector<TokenId>{1, 0, 0}));
  EXPECT_EQ(tok.encode("aa", false).value(), (std::vector<TokenId>{0, 0}));
}

TEST(Tokenizer, RejectsInvalidUtf8Text) {
  const Tokenizer tok = load(tiny({"a"}, {}));
  auto ids = tok.encode("a\xFFz");
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.error().message.find("byte 1"), std::string::npos) << ids.error().message;
}

}  // namespace
}  // namespace osp::data
