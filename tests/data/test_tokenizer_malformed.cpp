// Malformed and unsupported tokenizer.json files are refused with one line naming the file and
// the problem; random corruptions of a valid file never crash the reader.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "common/fresh_seed.h"
#include "data/bpe_trainer.h"
#include "data/tokenizer.h"

namespace osp::data {
namespace {

using Json = nlohmann::json;

// A valid byte-level tokenizer, trained here on a little text.
const std::string& valid_json() {
  static const std::string text = [] {
    PieceCounter counter(PreTokenizerStyle::kGpt2);
    std::vector<std::string> docs = {"the cat sat on the mat; the dog sat on the log",
                                     "a stitch in time saves nine, 1234 5678"};
    EXPECT_TRUE(counter.add(docs, 1).ok());
    BpeTrainerOptions o;
    o.vocab_size = 280;
    o.min_frequency = 1;
    o.style = PreTokenizerStyle::kGpt2;
    return trained_tokenizer_json(train_bpe(counter, o).value());
  }();
  return text;
}

struct Case {
  const char* name;
  std::function<void(Json&)> mutate;
  const char* expected;  // a part of the message
};

void expect_refused(const std::string& text, const std::string& expected, const char* name) {
  auto tok = Tokenizer::from_json(text, "bad.json");
  ASSERT_FALSE(tok.ok()) << name << ": accepted";
  const std::string& msg = tok.error().message;
  EXPECT_EQ(msg.rfind("bad.json: ", 0), 0u) << name << ": " << msg;
  EXPECT_NE(msg.find(expected), std::string::npos) << name << ": " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << name << ": not one line: " << msg;
}

TEST(TokenizerMalformed, ValidBaseLoads) {
  auto tok = Tokenizer::from_json(valid_json(), "base.json");
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ(tok->vocab_size(), 280u);
}

TEST(TokenizerMalformed, RefusedWithTheReason) {
  const std::vector<Case> cases = {
      {"no model", [](Json& j) { j.erase("model"); }, "model is missing"},
      {"model type", [](Json& j) { j["model"]["type"] = "WordPiece"; },
       "'WordPiece' is not supported"},
      {"no vocab", [](Json& j) { j["model"].erase("vocab"); }, "model.vocab is missing"},
      {"no merges", [](Json& j) { j["model"].erase("merges"); }, "model.merges is missing"},
      {"vocab not object", [](Json& j) { j["model"]["vocab"] = Json::array(); },
       "model.vocab must be an object"},
      {"vocab id text", [](Json& j) { j["model"]["vocab"]["!"] = "zero"; },
       "model.vocab['!'] must be a non-negative integer"},
      {"vocab id negative", [](Json& j) { j["model"]["vocab"]["!"] = -3; },
       "must be a non-negative integer"},
      {"vocab id huge", [](Json& j) { j["model"]["vocab"]["zzz"] = 1u << 30; }, "too large"},
      {"duplicate id", [](Json& j) { j["model"]["vocab"]["zzz"] = 5; }, "is given to both"},
      {"merge unknown token",
       [](Json& j) {
         j["model"]["merges"][2] = {"Ġ", "qqqq"};
       },
       "'qqqq' that is not in the vocab"},
      {"merge result missing",
       [](Json& j) {
         j["model"]["merges"][0] = {"!", "!"};
       },
       "'!!' that is not in the vocab"},
      {"merge three parts",
       [](Json& j) {
         Json m = Json::array();
         for (const auto& p : j["model"]["merges"])
           m.push_back(fmt::format("{} {}", p[0].get<std::string>(), p[1].get<std::string>()));
         m[1] = "a b c";
         j["model"]["merges"] = m;
       },
       "model.merges[1]: 'a b c' is not two tokens"},
      {"merge not text", [](Json& j) { j["model"]["merges"][0] = 42; }, "model.merges[0] must be"},
      {"merge forms mixed", [](Json& j) { j["model"]["merges"].push_back("a b"); }, "mixes"},
      {"dropout", [](Json& j) { j["model"]["dropout"] = 0.1; }, "dropout"},
      {"byte fallback not bool", [](Json& j) { j["model"]["byte_fallback"] = "yes"; },
       "model.byte_fallback must be true or false"},
      {"subword prefix", [](Json& j) { j["model"]["continuing_subword_prefix"] = "##"; },
       "model.continuing_subword_prefix: \"##\" is not supported"},
      {"word suffix", [](Json& j) { j["model"]["end_of_word_suffix"] = "</w>"; },
       "model.end_of_word_suffix: \"</w>\" is not supported"},
      {"word suffix not text", [](Json& j) { j["model"]["end_of_word_suffix"] = 3; },
       "model.end_of_word_suffix: must be a string or null"},
      {"unk missing", [](Json& j) { j["model"]["unk_token"] = "<unk>"; },
       "unk_token '<unk>' is not in the vocab"},
      {"metaspace no replacement",
       [](Json& j) { j["pre_tokenizer"] = {{"type", "Metaspace"}}; },
       "pre_tokenizer.replacement is missing"},
      {"metaspace two characters",
       [](Json& j) { j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "__"}}; },
       "pre_tokenizer.replacement: \"__\" must be exactly one character"},
      {"metaspace empty replacement",
       [](Json& j) { j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", ""}}; },
       "must be exactly one character"},
      {"metaspace scheme",
       [](Json& j) {
         j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "_"}, {"prepend_scheme", "First"}};
       },
       "pre_tokenizer.prepend_scheme: \"First\" is not one of"},
      {"metaspace prefix contradicts scheme",
       [](Json& j) {
         j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "_"}, {"add_prefix_space", false}};
       },
       "pre_tokenizer.add_prefix_space: false does not match prepend_scheme"},
      {"metaspace split not bool",
       [](Json& j) {
         j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "_"}, {"split", 1}};
       },
       "pre_tokenizer.split must be true or false"},
      {"unknown pre-tokenizer",
       [](Json& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; },
       "pre_tokenizer type 'Whitespace' is not supported"},
      {"strip decoder two characters",
       [](Json& j) {
         j["decoder"] = {{"type", "Strip"}, {"content", "ab"}, {"start", 1}, {"stop", 0}};
       },
       "decoder.content: \"ab\" must be exactly one character"},
      {"strip decoder negative",
       [](Json& j) {
         j["decoder"] = {{"type", "Strip"}, {"content", " "}, {"start", -1}, {"stop", 0}};
       },
       "decoder.start must be a non-negative integer"},
      {"strip decoder no stop",
       [](Json& j) { j["decoder"] = {{"type", "Strip"}, {"content", " "}, {"start", 1}}; },
       "decoder.stop is missing"},
      {"replace decoder pattern",
       [](Json& j) {
         j["decoder"] = {{"type", "Sequence"},
                         {"decoders", {{{"type", "Fuse"}},
                                       {{"type", "Replace"}, {"pattern", {{"Glob", "*"}}}, {"content", ""}}}}};
       },
       "decoder.decoders[1].pattern must be"},
      {"replace decoder no content",
       [](Json& j) {
         j["decoder"] = {{"type", "Replace"}, {"pattern", {{"String", "_"}}}};
       },
       "decoder.content is missing"},
      {"metaspace decoder scheme",
       [](Json& j) {
         j["decoder"] = {{"type", "Metaspace"}, {"replacement", "_"}, {"prepend_scheme", 3}};
       },
       "decoder.prepend_scheme: 3 is not one of"},
      {"ctc decoder",
       [](Json& j) { j["decoder"] = {{"type", "CTC"}}; },
       "decoder type 'CTC' is not supported"},
      {"pre-tokenizer no type",
       [](Json& j) {
         j["pre_tokenizer"] = {{"add_prefix_space", true}};
       },
       "pre_tokenizer.type is missing"},
      {"bert normalizer",
       [](Json& j) {
         j["normalizer"] = {{"type", "BertNormalizer"}};
       },
       "'BertNormalizer' is not supported"},
      {"nested unknown",
       [](Json& j) {
         j["normalizer"] = {{"type", "Sequence"},
                            {"normalizers", {{{"type", "NFC"}}, {{"type", "Precompiled"}}}}};
       },
       "normalizer.normalizers[1] type 'Precompiled'"},
      {"decoder",
       [](Json& j) {
         j["decoder"] = {{"type", "WordPiece"}};
       },
       "decoder type 'WordPiece'"},
      {"post processor",
       [](Json& j) {
         j["post_processor"] = {{"type", "Nonsense"}};
       },
       "'Nonsense' is not supported"},
      {"bad regex",
       [](Json& j) {
         j["pre_tokenizer"] = {{"type", "Split"},
                               {"pattern", {{"Regex", "(ab"}}},
                               {"behavior", "Isolated"},
                               {"invert", false}};
       },
       "regex '(ab' is not supported by PCRE2"},
      {"bad behavior",
       [](Json& j) {
         j["pre_tokenizer"] = {{"type", "Split"},
                               {"pattern", {{"String", " "}}},
                               {"behavior", "Sideways"},
                               {"invert", false}};
       },
       "behavior 'Sideways'"},
      {"split invert missing",
       [](Json& j) {
         j["pre_tokenizer"] = {
             {"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Isolated"}};
       },
       "pre_tokenizer.invert is missing"},
      {"pattern form",
       [](Json& j) {
         j["pre_tokenizer"] = {
             {"type", "Split"}, {"pattern", "x"}, {"behavior", "Isolated"}, {"invert", false}};
       },
       "pre_tokenizer.pattern must be"},
      {"added field missing", [](Json& j) { j["added_tokens"][0].erase("special"); },
       "added_tokens[0].special is missing"},
      {"added flag type", [](Json& j) { j["added_tokens"][0]["lstrip"] = "yes"; },
       "added_tokens[0].lstrip must be true or false"},
      {"added id", [](Json& j) { j["added_tokens"][0]["id"] = 7; }, "would give it id 0"},
      {"added new id",
       [](Json& j) {
         j["added_tokens"].push_back({{"id", 999},
                                      {"content", "<new>"},
                                      {"single_word", false},
                                      {"lstrip", false},
                                      {"rstrip", false},
                                      {"normalized", false},
                                      {"special", true}});
       },
       "'<new>' has id 999 but the tokenizers library would give it id 280"},
      {"added empty", [](Json& j) { j["added_tokens"][0]["content"] = ""; },
       "added_tokens[0].content is empty"},
      {"version", [](Json& j) { j["version"] = "2.0"; }, "version must be \"1.0\""},
      {"template",
       [](Json& j) {
         j["post_processor"] = {{"type", "TemplateProcessing"},
                                {"single", Json::array()},
                                {"special_tokens", Json::object()}};
       },
       "sequence A exactly once"},
      {"top level", [](Json& j) { j = Json::array(); }, "top level must be a JSON object"},
  };
  for (const Case& c : cases) {
    Json j = Json::parse(valid_json());
    c.mutate(j);
    expect_refused(j.dump(), c.expected, c.name);
  }
}

TEST(TokenizerMalformed, BrokenJsonText) {
  const std::string& text = valid_json();
  expect_refused("", "invalid JSON", "empty");
  expect_refused(text.substr(0, text.size() / 2), "invalid JSON", "truncated");
  expect_refused("{\"model\": \"\xFF\"}", "invalid JSON", "bad UTF-8");
  expect_refused(std::string(100000, '[') + std::string(100000, ']'), "nested more than", "deep");
}

TEST(TokenizerMalformed, MissingFileIsNamed) {
  auto tok = Tokenizer::load("/nonexistent/dir/tokenizer.json");
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.error().message.find("/nonexistent/dir/tokenizer.json"), std::string::npos);
}

// Random edits of base; whatever is accepted must encode and decode without trouble.
void corrupt_many(const std::string& base, int trials) {
  const uint64_t seed = osp::test::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int accepted = 0;
  for (int trial = 0; trial < trials; ++trial) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text[at] = static_cast<char>(rng());
          break;
        case 1:
          text.erase(at, 1 + rng() % 16);
          break;
        case 2:
          text.insert(at, 1, "{}[]\",:0\\ "[rng() % 10]);
          break;
        default:
          text.resize(at);
          break;
      }
      if (text.empty()) text.push_back('x');
    }
    auto tok = Tokenizer::from_json(text, "fuzz.json");
    if (tok.ok()) {
      ++accepted;
      auto ids = tok->encode("Hello, world! 123 <|endoftext|> caf\u00e9 \u2581 \U0001F600");
      if (ids.ok()) (void)tok->decode(*ids);
      const std::vector<TokenId> odd = {0, 300, 5, 280, 279, 1u << 20};
      (void)tok->decode(odd);
    } else {
      EXPECT_EQ(tok.error().message.rfind("fuzz.json: ", 0), 0u) << tok.error().message;
    }
  }
  ::testing::Test::RecordProperty("accepted", accepted);
}

// The valid tokenizer in SentencePiece style: <0xNN> tokens, byte_fallback, Metaspace and the
// Llama-2 decoder chain, so that corruptions hit the newer fields too.
std::string sentencepiece_style_json() {
  Json j = Json::parse(valid_json());
  Json& vocab = j["model"]["vocab"];
  for (int b = 0; b < 256; ++b) vocab[fmt::format("<0x{:02X}>", b)] = vocab.size();
  vocab["\u2581"] = vocab.size();
  j["model"]["byte_fallback"] = true;
  j["model"]["fuse_unk"] = true;
  j["model"]["continuing_subword_prefix"] = "";
  j["added_tokens"] = Json::array();
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\u2581"},
                        {"prepend_scheme", "first"}, {"split", true}};
  j["decoder"] = {{"type", "Sequence"},
                  {"decoders",
                   {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                    {{"type", "ByteFallback"}},
                    {{"type", "Fuse"}},
                    {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 1}},
                    {{"type", "Metaspace"}, {"replacement", "\u2581"}}}}};
  return j.dump();
}

TEST(TokenizerMalformed, RandomCorruptionNeverCrashes) { corrupt_many(valid_json(), 400); }

TEST(TokenizerMalformed, SentencePieceStyleCorruptionNeverCrashes) {
  auto tok = Tokenizer::from_json(sentencepiece_style_json(), "spm.json");
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  corrupt_many(sentencepiece_style_json(), 400);
}

}  // namespace
}  // namespace osp::data
