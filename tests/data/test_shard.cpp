// Token shards, manifests and the window sampler: round trips with fresh random tokens, and
// refusal (with the file named) of truncated, foreign, corrupt or mismatched files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/fresh_seed.h"
#include "data/file_util.h"
#include "data/manifest.h"
#include "data/shard.h"
#include "data/token_loader.h"

namespace osp::data {
namespace {

namespace fs = std::filesystem;

class ShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("osp_shard_test_{}_{}", getpid(), rng_());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes a shard of random tokens; returns them.
  std::vector<TokenId> write_shard(const std::string& name, ShardHeader h, size_t n,
                                   uint64_t docs) {
    std::vector<TokenId> tokens(n);
    for (auto& t : tokens) t = static_cast<TokenId>(rng_() % h.vocab_size);
    auto w = ShardWriter::create(path(name), h);
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE(w->append(tokens, docs).ok());
    EXPECT_TRUE(w->finish().ok());
    return tokens;
  }

  std::string bytes_of(const std::string& name) { return read_file(path(name), 1 << 30).value(); }
  void put(const std::string& name, const std::string& bytes) {
    std::ofstream(path(name), std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  void expect_refused(const std::string& name, const std::string& expected) {
    auto r = ShardReader::open(path(name));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.error().message.find(path(name)), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(expected), std::string::npos) << r.error().message;
  }

  fs::path dir_;
  const uint64_t seed_ = osp::test::fresh_seed();
  std::mt19937_64 rng_{seed_};
  ::testing::ScopedTrace trace_{__FILE__, __LINE__, "seed " + std::to_string(seed_)};
};

ShardHeader header(uint32_t vocab) {
  ShardHeader h;
  h.vocab_size = vocab;
  h.token_bits = token_bits_for(vocab);
  h.eos_id = 0;
  h.tokenizer_hash = 0x0123456789abcdefull;
  return h;
}

TEST_F(ShardTest, RoundTrip16And32Bits) {
  for (const uint32_t vocab : {300u, 65536u, 70000u}) {
    const auto tokens = write_shard("s.bin", header(vocab), 5000 + rng_() % 5000, 7);
    auto r = ShardReader::open(path("s.bin"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->header().token_bits, vocab <= 65536 ? 16u : 32u);
    EXPECT_EQ(r->header().document_count, 7u);
    EXPECT_EQ(r->header().tokenizer_hash, 0x0123456789abcdefull);
    ASSERT_EQ(r->size(), tokens.size());
    std::vector<TokenId> back(tokens.size());
    r->copy(0, tokens.size(), back.data());
    EXPECT_EQ(back, tokens);
    EXPECT_EQ(fs::file_size(path("s.bin")), 64 + tokens.size() * (vocab <= 65536 ? 2 : 4));
  }
}

TEST_F(ShardTest, RefusesBrokenFiles) {
  write_shard("good.bin", header(1000), 1000, 1);
  const std::string good = bytes_of("good.bin");
  put("short.bin", good.substr(0, 40));
  expect_refused("short.bin", "too short");
  put("truncated.bin", good.substr(0, good.size() - 1 - rng_() % 100));
  expect_refused("truncated.bin", "truncated or corrupt");
  put("longer.bin", good + "xy");
  expect_refused("longer.bin", "truncated or corrupt");
  std::string foreign(2000, '\0');
  for (char& c : foreign) c = static_cast<char>(rng_());
  foreign[0] = 'G';
  put("foreign.bin", foreign);
  expect_refused("foreign.bin", "not an osp token shard");
  std::string version = good;
  version[8] = 9;
  put("version.bin", version);
  expect_refused("version.bin", "version 9 is not supported");
  std::string width = good;
  width[12] = 8;
  put("width.bin", width);
  expect_refused("width.bin", "token width 8 bits");
  std::string bad_id = good;
  const size_t at = 64 + 2 * (rng_() % 1000);
  bad_id[at] = static_cast<char>(0xff), bad_id[at + 1] = static_cast<char>(0xff);
  put("bad_id.bin", bad_id);
  expect_refused("bad_id.bin", "not below the vocabulary size 1000");
  std::string count = good;
  count[23] = static_cast<char>(0x40);  // token count near 2^62: must not overflow
  put("count.bin", count);
  expect_refused("count.bin", "truncated or corrupt");
  put("empty.bin", "");
  expect_refused("empty.bin", "too short");
  auto missing = ShardReader::open(path("missing.bin"));
  ASSERT_FALSE(missing.ok());
}

TEST_F(ShardTest, DatasetAndWindows) {
  const ShardHeader h = header(500);
  std::vector<TokenId> all;
  Manifest m;
  m.tokenizer_hash = h.tokenizer_hash;
  m.vocab_size = 500;
  m.token_bits = 16;
  for (int s = 0; s < 3; ++s) {
    const std::string name = fmt::format("train_{:06d}.bin", s);
    const auto tokens = write_shard(name, h, 100 + rng_() % 200, 2);
    all.insert(all.end(), tokens.begin(), tokens.end());
    m.train.push_back({name, tokens.size(), 2});
  }
  ASSERT_TRUE(write_manifest(path("manifest.json"), m).ok());
  auto ds = TokenDataset::open(dir_.string(), "train");
  ASSERT_TRUE(ds.ok()) << ds.error().message;
  ASSERT_EQ(ds->tokens(), all.size());
  auto sampler = WindowSampler::create(*ds, 65, 42);
  ASSERT_TRUE(sampler.ok());
  std::vector<TokenId> window(65);
  for (uint64_t k = 0; k < 200; ++k) {
    const uint64_t start = sampler->start(k);
    ASSERT_LE(start + 65, all.size());
    sampler->window(k, window.data());
    EXPECT_TRUE(std::equal(window.begin(), window.end(), all.begin() + static_cast<long>(start)));
  }
  auto again = WindowSampler::create(*ds, 65, 42);
  auto other = WindowSampler::create(*ds, 65, 43);
  int same = 0;
  for (uint64_t k = 0; k < 50; ++k) {
    EXPECT_EQ(again->start(k), sampler->start(k));
    same += other->start(k) == sampler->start(k);
  }
  EXPECT_LT(same, 10);
  EXPECT_FALSE(WindowSampler::create(*ds, all.size() + 1, 1).ok());
  auto val = TokenDataset::open(dir_.string(), "val");
  ASSERT_TRUE(val.ok());
  EXPECT_EQ(val->tokens(), 0u);
}

TEST_F(ShardTest, DatasetRefusesMismatches) {
  write_shard("train_000000.bin", header(500), 100, 1);
  Manifest m;
  m.tokenizer_hash = 0x0123456789abcdefull;
  m.vocab_size = 500;
  m.train.push_back({"train_000000.bin", 99, 1});
  ASSERT_TRUE(write_manifest(path("manifest.json"), m).ok());
  auto ds = TokenDataset::open(dir_.string(), "train");
  ASSERT_FALSE(ds.ok());
  EXPECT_NE(ds.error().message.find("manifest.json lists 99"), std::string::npos)
      << ds.error().message;
  m.train[0].tokens = 100;
  m.tokenizer_hash = 1;
  ASSERT_TRUE(write_manifest(path("manifest.json"), m).ok());
  ds = TokenDataset::open(dir_.string(), "train");
  ASSERT_FALSE(ds.ok());
  EXPECT_NE(ds.error().message.find("different tokenizer"), std::string::npos)
      << ds.error().message;
  put("manifest.json", "{\"format\": \"osp-token-shards\", \"version\": 1}");
  ds = TokenDataset::open(dir_.string(), "train");
  ASSERT_FALSE(ds.ok());
  EXPECT_NE(ds.error().message.find("manifest.json: tokenizer is missing"), std::string::npos)
      << ds.error().message;
  m.train[0].file = "../etc/passwd";
  m.tokenizer_hash = 0x0123456789abcdefull;
  ASSERT_TRUE(write_manifest(path("manifest.json"), m).ok());
  ds = TokenDataset::open(dir_.string(), "train");
  ASSERT_FALSE(ds.ok());
  EXPECT_NE(ds.error().message.find("plain file name"), std::string::npos) << ds.error().message;
}

}  // namespace
}  // namespace osp::data
