// GGUF: Q8_0/Q4_0 rounding rules and layouts (formats.md §3.11), writer/reader round trip, the
// Q/K permutation against both RoPE conventions (§3.10), and the llama export's keys and types.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "common/test_context.h"
#include "core/dtype.h"
#include "interop_test_util.h"
#include "io/gguf_export.h"
#include "io/gguf_quant.h"
#include "io/gguf_reader.h"
#include "io/gguf_writer.h"
#include "io/io_test_util.h"
#include "io/tokenizer_vocab.h"

namespace osp::io {
namespace {

using test::ScratchDir;

uint16_t u16_at(const std::vector<std::byte>& b, size_t at) { return uint16_t(unsigned(b[at]) | unsigned(b[at + 1]) << 8); }

TEST(GgufQuant, Q8_0RoundsHalfAwayFromZero) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // amax 127: d = 1, id = 1
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.5f;
  x[4] = -126.5f;
  const auto b = gguf_encode(x, 32, GgufType::kQ8_0);
  ASSERT_EQ(b.size(), 34u);
  EXPECT_EQ(u16_at(b, 0), f32_to_f16(1.0f));
  EXPECT_EQ(int8_t(b[2]), 127);
  EXPECT_EQ(int8_t(b[3]), 3);    // RNE would give 2
  EXPECT_EQ(int8_t(b[4]), -3);
  EXPECT_EQ(int8_t(b[5]), 1);    // RNE would give 0
  EXPECT_EQ(int8_t(b[6]), -127);
  const auto all_zero = gguf_encode(std::vector<float>(32, 0.0f), 32, GgufType::kQ8_0);
  for (auto v : all_zero) EXPECT_EQ(v, std::byte{0});
}

TEST(GgufQuant, Q4_0TruncatesAndPacksFirstHalfLow) {
  std::vector<float> x(32, 0.0f);
  x[0] = 8.0f;   // the first of two equal magnitudes wins: d = 8 / -8 = -1
  x[20] = -8.0f;
  x[1] = -0.5f;  // x·id = 0.5 → trunc(9.0) = 9
  x[2] = 0.5f;   // −0.5 + 8.5 = 8
  x[17] = -3.7f; // 3.7 + 8.5 = 12.2 → 12
  const auto b = gguf_encode(x, 32, GgufType::kQ4_0);
  ASSERT_EQ(b.size(), 18u);
  EXPECT_EQ(u16_at(b, 0), f32_to_f16(-1.0f));
  auto q = [&](int j) { return j < 16 ? int(unsigned(b[2 + j]) & 15) : int(unsigned(b[2 + j - 16]) >> 4); };
  EXPECT_EQ(q(0), 0);    // 8·(−1) + 8.5 = 0.5 → 0
  EXPECT_EQ(q(20), 15);  // −8·(−1) + 8.5 = 16.5 → 16, clamped to 15
  EXPECT_EQ(q(1), 9);
  EXPECT_EQ(q(2), 8);
  EXPECT_EQ(q(17), 12);
  EXPECT_EQ(q(5), 8);
  auto d = gguf_decode(b, 32, GgufType::kQ4_0);
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)[0], 8.0f);
  EXPECT_EQ((*d)[20], -7.0f);
  EXPECT_EQ((*d)[17], -4.0f);
}

// x·id is rounded to fp32 before 8.5 is added (§3.11, as gguf-py's reference encoder does). With
// max = 3, id = fp32(1 / −0.375) = −2.6666667 and x = 2.8125: x·id = −7.50000020 exactly, −7.5 in
// fp32, so q = trunc(1.0) = 1; a fused multiply-add would give trunc(0.9999998) = 0.
TEST(GgufQuant, Q4_0RoundsTheProductBeforeAddingTheOffset) {
  std::vector<float> x(32, 0.25f);
  x[0] = 3.0f;
  x[1] = 2.8125f;
  x[30] = 2.4375f;  // −6.50000016 → −6.5 → trunc(2.0) = 2 (fused: 1)
  const auto b = gguf_encode(x, 32, GgufType::kQ4_0);
  auto q = [&](int j) { return j < 16 ? int(unsigned(b[2 + j]) & 15) : int(unsigned(b[2 + j - 16]) >> 4); };
  EXPECT_EQ(q(1), 1);
  EXPECT_EQ(q(30), 2);
  EXPECT_EQ(q(0), 0);  // −8 + 8.5
}

TEST(GgufQuant, RandomBlocksDecodeWithinHalfAStep) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  Rng rng(seed);
  std::vector<float> x(64 * 32);
  for (auto& v : x) v = float(rng.normal() * (1 + 10 * rng.uniform()));
  for (GgufType t : {GgufType::kQ8_0, GgufType::kQ4_0, GgufType::kF16, GgufType::kBF16, GgufType::kF32}) {
    const auto b = gguf_encode(x, 64, t);
    auto d = gguf_decode(b, x.size(), t);
    ASSERT_TRUE(d);
    for (size_t blk = 0; blk < x.size() / 32; ++blk) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[blk * 32 + j]));
      const double step = t == GgufType::kQ8_0 ? amax / 127.0 : t == GgufType::kQ4_0 ? amax / 8.0 : 0.0;
      for (int j = 0; j < 32; ++j) {
        const size_t i = blk * 32 + j;
        const double tol = step * 0.5 * 1.01 + std::fabs(x[i]) * (t == GgufType::kBF16 ? 4e-3 : 1e-3) + 1e-7;
        ASSERT_LE(std::fabs((*d)[i] - x[i]), t == GgufType::kQ4_0 ? step * 1.01 + 1e-3 : tol) << i;
      }
    }
  }
}

TEST(GgufWriterReader, RoundTrip) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  Rng rng(seed);
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u32("llama.block_count", 7);
  w.add_f32("llama.rope.freq_base", 10000.0f);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  const std::vector<std::string> toks = {"a", "Ġb", "", "<|endoftext|>"};
  w.add_string_array("tokenizer.ggml.tokens", toks);
  w.add_i32_array("tokenizer.ggml.token_type", std::vector<int32_t>{1, 1, 5, 3});
  std::vector<float> a(3 * 64), b(5);
  for (auto& v : a) v = float(rng.normal());
  for (auto& v : b) v = float(rng.normal());
  ASSERT_TRUE(w.add_tensor("a", {64, 3}, GgufType::kQ8_0, [&] { return gguf_encode(a, 64, GgufType::kQ8_0); }));
  ASSERT_TRUE(w.add_tensor("b", {5}, GgufType::kF32, [&] { return gguf_encode(b, 5, GgufType::kF32); }));
  EXPECT_FALSE(w.add_tensor("b", {5}, GgufType::kF32, [&] { return gguf_encode(b, 5, GgufType::kF32); }));
  EXPECT_FALSE(w.add_tensor("c", {16}, GgufType::kQ4_0, [] { return std::vector<std::byte>(); }));
  auto image = w.to_bytes();
  ASSERT_TRUE(image);
  auto r = GgufReader::from_memory(*image, "mem.gguf");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->version(), 3u);
  EXPECT_EQ(r->find("general.architecture")->s, "llama");
  EXPECT_EQ(r->find("llama.block_count")->as_uint(), 7u);
  EXPECT_EQ(r->find("llama.rope.freq_base")->f, 10000.0);
  EXPECT_EQ(r->find("tokenizer.ggml.add_bos_token")->u, 1u);
  ASSERT_EQ(r->find("tokenizer.ggml.tokens")->array.size(), 4u);
  EXPECT_EQ(r->find("tokenizer.ggml.tokens")->array[1].s, "Ġb");
  EXPECT_EQ(r->find("tokenizer.ggml.token_type")->array[3].i, 3);
  const auto* ta = r->tensor("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->ne, (std::vector<uint64_t>{64, 3}));
  EXPECT_EQ(ta->offset % 32, 0u);
  EXPECT_EQ(r->tensor("b")->offset % 32, 0u);
  EXPECT_EQ(*r->read_f32("a"), *gguf_decode(gguf_encode(a, 64, GgufType::kQ8_0), a.size(), GgufType::kQ8_0));
  EXPECT_EQ(*r->read_f32("b"), b);
}

// Half-split RoPE (osp, transformers) on x, and adjacent-pair RoPE (llama.cpp "llama") on y.
std::vector<double> rope_half(const std::vector<float>& x, int p, double theta) {
  const size_t h = x.size() / 2;
  std::vector<double> out(x.size());
  for (size_t i = 0; i < h; ++i) {
    const double a = p * std::pow(theta, -2.0 * double(i) / double(x.size()));
    out[i] = x[i] * std::cos(a) - x[i + h] * std::sin(a);
    out[i + h] = x[i + h] * std::cos(a) + x[i] * std::sin(a);
  }
  return out;
}
std::vector<double> rope_adjacent(const std::vector<float>& y, int p, double theta) {
  std::vector<double> out(y.size());
  for (size_t i = 0; i < y.size() / 2; ++i) {
    const double a = p * std::pow(theta, -2.0 * double(i) / double(y.size()));
    out[2 * i] = y[2 * i] * std::cos(a) - y[2 * i + 1] * std::sin(a);
    out[2 * i + 1] = y[2 * i + 1] * std::cos(a) + y[2 * i] * std::sin(a);
  }
  return out;
}

TEST(GgufExport, QkPermutationMakesAdjacentRopeEqualHalfSplit) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  Rng rng(seed);
  const int64_t heads = 3, dh = 8, cols = 5;
  std::vector<float> w(static_cast<size_t>(heads * dh * cols)), h(static_cast<size_t>(cols));
  for (auto& v : w) v = float(rng.normal());
  for (auto& v : h) v = float(rng.normal());
  const auto wp = permute_qk_rows(w, heads, dh, cols);
  auto project = [&](const std::vector<float>& m, int64_t head) {
    std::vector<float> q(static_cast<size_t>(dh));
    for (int64_t r = 0; r < dh; ++r)
      for (int64_t c = 0; c < cols; ++c) q[size_t(r)] += m[size_t((head * dh + r) * cols + c)] * h[size_t(c)];
    return q;
  };
  for (int64_t head = 0; head < heads; ++head) {
    const auto ref = rope_half(project(w, head), 5, 10000.0);      // osp / transformers
    const auto got = rope_adjacent(project(wp, head), 5, 10000.0); // llama.cpp on the permuted rows
    for (int64_t i = 0; i < dh / 2; ++i) {
      EXPECT_NEAR(got[size_t(2 * i)], ref[size_t(i)], 1e-5);
      EXPECT_NEAR(got[size_t(2 * i + 1)], ref[size_t(i + dh / 2)], 1e-5);
    }
  }
}

constexpr const char* kTinyTokenizer = R"({"version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": false, "lstrip": false,
    "rstrip": false, "normalized": false, "special": true}],
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
  "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
    "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
    "vocab": {"<|endoftext|>": 0, "a": 1, "b": 2, "Ġ": 3, "ab": 4, "Ġab": 5},
    "merges": [["a", "b"], ["Ġ", "ab"]]}})";

TEST(GgufExport, LlamaKeysTypesAndTokenizer) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  ScratchDir dir;
  { std::ofstream(dir / "tokenizer.json") << kTinyTokenizer; }
  for (bool tie : {false, true}) {
    const auto m = test::random_model(test::tiny_config(true, false, tie, 2), seed);
    const model::PlainLlama plain = model::fold_to_plain_llama(osp::test::ctx(), m.config, m.params.data());
    const auto out = dir / "m.gguf";
    auto notes = export_gguf(plain, out, {GgufExportType::kQ4_0, dir / "tokenizer.json", "tiny", std::nullopt});
    ASSERT_TRUE(notes) << notes.error().message;
    auto r = GgufReader::open(out);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->metadata()[0].key, "general.architecture");
    EXPECT_EQ(r->find("general.file_type")->as_uint(), 2u);
    EXPECT_EQ(r->find("general.quantization_version")->as_uint(), 2u);
    EXPECT_EQ(r->find("llama.attention.head_count_kv")->as_uint(), 2u);
    EXPECT_EQ(r->find("llama.rope.dimension_count")->as_uint(), 16u);
    EXPECT_EQ(r->find("tokenizer.ggml.pre")->s, "gpt-2");
    const auto& tokens = r->find("tokenizer.ggml.tokens")->array;
    ASSERT_EQ(tokens.size(), size_t(m.config.vocab));
    EXPECT_EQ(tokens[5].s, "Ġab");
    EXPECT_EQ(tokens[100].s, "[PAD100]");
    EXPECT_EQ(r->find("tokenizer.ggml.token_type")->array[0].i, 3);
    EXPECT_EQ(r->find("tokenizer.ggml.token_type")->array[100].i, 5);
    EXPECT_EQ(r->find("tokenizer.ggml.merges")->array[1].s, "Ġ ab");
    EXPECT_EQ(r->find("tokenizer.ggml.eos_token_id")->as_uint(), 0u);
    EXPECT_EQ(r->tensors().size(), size_t(9 * 2 + (tie ? 2 : 3)));
    EXPECT_EQ(r->tensors().front().name, "token_embd.weight");
    EXPECT_EQ(r->tensor("token_embd.weight")->type, tie ? GgufType::kQ8_0 : GgufType::kQ4_0);
    if (!tie) {
      EXPECT_EQ(r->tensor("output.weight")->type, GgufType::kQ8_0);
    }
    EXPECT_EQ(r->tensor("blk.1.ffn_down.weight")->ne, (std::vector<uint64_t>{96, 64}));
    EXPECT_EQ(r->tensor("blk.0.attn_norm.weight")->type, GgufType::kF32);
    // SSNorm scalars became vectors of one value.
    const auto norm = *r->read_f32("blk.0.attn_norm.weight");
    EXPECT_EQ(norm.size(), 64u);
    EXPECT_EQ(norm.front(), norm.back());
  }
}

TEST(GgufExport, RefusesPreTokenizersLlamaCppLacks) {
  ScratchDir dir;
  std::string text = kTinyTokenizer;
  text.replace(text.find("\"use_regex\": true}"), 18, "\"use_regex\": false}");
  { std::ofstream(dir / "tokenizer.json") << text; }
  const auto m = test::random_model(test::tiny_config(false, false, false, 4), 1);
  const model::PlainLlama plain = model::fold_to_plain_llama(osp::test::ctx(), m.config, m.params.data());
  auto r = export_gguf(plain, dir / "m.gguf", {GgufExportType::kF16, dir / "tokenizer.json", "x", std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("pre_tokenizer"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace osp::io

namespace osp::io {
namespace {

TEST(TokenizerVocab, FoundNextToTheRunsTrainingData) {
  test::ScratchDir dir;
  std::filesystem::create_directories(dir / "data");
  std::filesystem::create_directories(dir / "run" / "checkpoints" / "step-5");
  { std::ofstream(dir / "data" / "tokenizer.json") << "{}"; }
  { std::ofstream(dir / "run" / "checkpoints" / "latest") << "step-5\n"; }
  {
    std::ofstream(dir / "run" / "checkpoints" / "step-5" / "state.json")
        << R"({"config": {"data": {"train": ")" << (dir / "data").string() << R"("}}})";
  }
  EXPECT_EQ(find_training_tokenizer(dir / "run"), dir / "data" / "tokenizer.json");
  EXPECT_EQ(find_training_tokenizer(dir / "run" / "checkpoints" / "step-5"), dir / "data" / "tokenizer.json");
  EXPECT_EQ(find_training_tokenizer(dir / "data" / "nothing"), dir / "data" / "tokenizer.json");
  EXPECT_EQ(find_training_tokenizer(dir.path()), std::nullopt);
}

TEST(TokenizerVocab, SpecialIdsTypesAndRefusals) {
  auto v = read_tokenizer_vocab(kTinyTokenizer, "t.json");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->tokens.size(), 6u);
  EXPECT_EQ(v->eos, 0);
  EXPECT_EQ(v->bos, 0);  // no BOS token: bos = eos (formats.md §2.2)
  EXPECT_EQ(v->types[0], GgufTokenType::kControl);
  EXPECT_EQ(v->merges, (std::vector<std::string>{"a b", "Ġ ab"}));
  EXPECT_FALSE(pad_tokenizer_vocab(*v, 3, "t.json"));
  std::string unigram = kTinyTokenizer;
  unigram.replace(unigram.find("\"type\": \"BPE\""), 13, "\"type\": \"Unigram\"");
  auto u = read_tokenizer_vocab(unigram, "t.json");
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message.find("Unigram"), std::string::npos);
}

}  // namespace
}  // namespace osp::io

namespace osp::io {
namespace {

// The tiny tokenizer with its pre_tokenizer (and post_processor) replaced.
std::string with_pre(const std::string& pre, const std::string& post = "null") {
  auto j = nlohmann::json::parse(kTinyTokenizer);
  j["pre_tokenizer"] = nlohmann::json::parse(pre);
  j["post_processor"] = nlohmann::json::parse(post);
  return j.dump();
}

TEST(TokenizerVocab, PreTokenizerNamesForLlamaCpp) {
  const std::string byte_level_regex = R"({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true})";
  const std::string byte_level_plain = R"({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false})";
  const std::string smollm = R"({"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, )" + byte_level_regex + "]}";
  const nlohmann::json llama3_split = {
      {"type", "Split"},
      {"pattern", {{"Regex", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
      {"behavior", "Isolated"}, {"invert", false}};
  const std::string llama3 = R"({"type": "Sequence", "pretokenizers": [)" + llama3_split.dump() + ", " + byte_level_plain + "]}";
  const std::string bos_template = R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {}})";
  EXPECT_EQ(read_tokenizer_vocab(with_pre(byte_level_regex), "t")->pre, "gpt-2");
  EXPECT_EQ(read_tokenizer_vocab(with_pre(smollm), "t")->pre, "smollm");
  auto l3 = read_tokenizer_vocab(with_pre(llama3, bos_template), "t");
  EXPECT_EQ(l3->pre, "llama-bpe");
  EXPECT_TRUE(l3->add_bos);
  EXPECT_FALSE(l3->add_eos);
  // Near misses have no llama.cpp equivalent: digits in runs, prefix space, another regex.
  const std::string runs = R"({"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": false}, )" + byte_level_regex + "]}";
  EXPECT_EQ(read_tokenizer_vocab(with_pre(runs), "t")->pre, "");
  EXPECT_EQ(read_tokenizer_vocab(with_pre(R"({"type": "ByteLevel", "add_prefix_space": true, "use_regex": true})"), "t")->pre, "");
  auto other = llama3_split;
  other["pattern"]["Regex"] = "\\s+";
  EXPECT_EQ(read_tokenizer_vocab(with_pre(R"({"type": "Sequence", "pretokenizers": [)" + other.dump() + ", " + byte_level_plain + "]}"), "t")->pre, "");
}

}  // namespace
}  // namespace osp::io
