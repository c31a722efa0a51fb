// BPE training: the vocabulary reaches the requested size, merges are valid and learned in
// frequency order, the result does not depend on the thread count, and a trained tokenizer
// round-trips fresh random text exactly (decode(encode(x)) == x).
#include <gtest/gtest.h>

#include <random>

#include "common/fresh_seed.h"
#include "data/bpe_trainer.h"
#include "data/tokenizer.h"
#include "data/utf8.h"

namespace osp::data {
namespace {

std::string random_text(std::mt19937_64& rng, size_t words) {
  static const std::vector<std::string> kWords = {
      "the",  "of",   "and", "to",   "in",  "is",    "was",   "he",   "for",   "it",
      "with", "as",   "his", "on",   "be",  "at",    "by",    "I",    "had",   "this",
      "not",  "are",  "but", "from", "or",  "have",  "an",    "they", "which", "one",
      "you",  "were", "her", "all",  "she", "there", "would", "their"};
  std::string out;
  for (size_t i = 0; i < words; ++i) {
    const uint64_t r = rng() % 100;
    if (r < 80)
      out += kWords[rng() % kWords.size()];
    else if (r < 88)
      out += std::to_string(rng() % 100000);
    else if (r < 94)
      out += std::string(1 + rng() % 3, " \n\t.,;!?"[rng() % 8]);
    else {
      // Any Unicode scalar value, including ones far outside the training text's usual range.
      char32_t cp;
      do cp = static_cast<char32_t>(rng() % 0x110000);
      while (cp >= 0xD800 && cp <= 0xDFFF);
      utf8_append(out, cp);
    }
    out.push_back(rng() % 5 == 0 ? '\n' : ' ');
  }
  return out;
}

std::vector<std::string> random_corpus(uint64_t seed, size_t docs) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (size_t d = 0; d < docs; ++d) out.push_back(random_text(rng, 50 + rng() % 200));
  return out;
}

TrainedBpe train(const std::vector<std::string>& docs, PreTokenizerStyle style, uint32_t vocab,
                 int threads) {
  PieceCounter counter(style);
  EXPECT_TRUE(counter.add(docs, threads).ok());
  BpeTrainerOptions o;
  o.vocab_size = vocab;
  o.style = style;
  o.min_frequency = 1;
  return train_bpe(counter, o).value();
}

TEST(BpeTrainer, ReachesTheVocabSizeAndRoundTrips) {
  const uint64_t seed = osp::test::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto docs = random_corpus(seed, 200);
  for (const auto style :
       {PreTokenizerStyle::kGpt2, PreTokenizerStyle::kSmolLm, PreTokenizerStyle::kLlama3}) {
    const TrainedBpe trained = train(docs, style, 600, 2);
    auto tok = Tokenizer::from_json(trained_tokenizer_json(trained), "trained.json");
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_EQ(tok->vocab_size(), 600u) << style_name(style);
    EXPECT_EQ(tok->eos_id(), std::optional<TokenId>(0));
    std::mt19937_64 rng(seed + 1);
    for (int i = 0; i < 50; ++i) {
      const std::string text = random_text(rng, 1 + rng() % 80);
      auto ids = tok->encode(text);
      ASSERT_TRUE(ids.ok()) << ids.error().message;
      EXPECT_EQ(tok->decode(*ids), text) << "seed " << seed << " style " << style_name(style);
    }
  }
}

TEST(BpeTrainer, SameResultWithOneOrTwoThreads) {
  const uint64_t seed = osp::test::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto docs = random_corpus(seed, 100);
  const TrainedBpe one = train(docs, PreTokenizerStyle::kSmolLm, 500, 1);
  const TrainedBpe two = train(docs, PreTokenizerStyle::kSmolLm, 500, 2);
  EXPECT_EQ(one.merges, two.merges);
  EXPECT_EQ(one.token_bytes, two.token_bytes);
}

TEST(BpeTrainer, FirstMergeIsTheMostFrequentPair) {
  // Pieces per document: "ab", " ab", " ab", " cd", " cd", " x". Pair counts: (a, b) 60,
  // (space, a) 40, (space, c) 40, (c, d) 40, (space, x) 20: the first merge is a + b.
  std::vector<std::string> docs(20, "ab ab ab cd cd x");
  const TrainedBpe t = train(docs, PreTokenizerStyle::kGpt2, 258, 1);
  ASSERT_EQ(t.merges.size(), 1u);
  EXPECT_EQ(t.token_bytes.back(), "ab");
}

TEST(BpeTrainer, MinFrequencyStopsEarly) {
  std::vector<std::string> docs = {"abc abc xyz"};
  PieceCounter counter(PreTokenizerStyle::kGpt2);
  ASSERT_TRUE(counter.add(docs, 1).ok());
  BpeTrainerOptions o;
  o.vocab_size = 1000;
  o.min_frequency = 2;
  o.style = PreTokenizerStyle::kGpt2;
  const TrainedBpe t = train_bpe(counter, o).value();
  // Only pairs inside " abc" (seen twice) qualify: Ġa/ab/bc-style merges, at most 3 of them.
  EXPECT_LE(t.merges.size(), 3u);
  EXPECT_GE(t.merges.size(), 1u);
}

TEST(BpeTrainer, RefusesBadOptions) {
  PieceCounter counter(PreTokenizerStyle::kGpt2);
  BpeTrainerOptions o;
  o.vocab_size = 100;
  EXPECT_FALSE(train_bpe(counter, o).ok());
  o.vocab_size = 1000;
  o.special_tokens = {"<a>", "<a>"};
  EXPECT_FALSE(train_bpe(counter, o).ok());
  EXPECT_FALSE(parse_style("sentencepiece").ok());
}

}  // namespace
}  // namespace osp::data
