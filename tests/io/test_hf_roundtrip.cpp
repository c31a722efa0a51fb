// Hugging Face export and import (formats.md §2, osp-method.md §3): folding keeps the logits,
// re-export is bit-identical, sharding, bf16 rounds once, and malformed folders are refused.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "common/test_context.h"
#include "interop_test_util.h"
#include "io/hf_export.h"
#include "io/hf_import.h"
#include "io/io_test_util.h"
#include "io/model_file.h"

namespace osp::io {
namespace {

using test::ScratchDir;
namespace fs = std::filesystem;

std::vector<int32_t> tokens_for(uint64_t seed, int64_t vocab) {
  Rng rng(seed ^ 0x5eed);
  return osp::test::random_tokens(rng, 24, vocab);
}

fs::path export_f32(const test::RandomModel& m, const fs::path& dir, uint64_t shard_bytes = 5'000'000'000) {
  const model::PlainLlama plain = model::fold_to_plain_llama(osp::test::ctx(), m.config, m.params.data());
  HfExportOptions opt;
  opt.dtype = SafetensorsDType::kF32;
  opt.shard_bytes = shard_bytes;
  auto r = export_hf(plain, dir, opt);
  EXPECT_TRUE(r) << r.error().message;
  return dir;
}

TEST(HfExport, FoldingKeepsTheLogits) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  struct Case { bool ssnorm, emb_proj, tie; int64_t kv; };
  for (const Case k : {Case{true, true, false, 4}, Case{true, true, true, 2}, Case{false, false, true, 2},
                       Case{true, false, false, 1}}) {
    ScratchDir dir;
    const auto m = test::random_model(test::tiny_config(k.ssnorm, k.emb_proj, k.tie, k.kv), seed);
    export_f32(m, dir.path());
    auto loaded = load_model(dir.path());
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_FALSE(loaded->config.emb_proj);
    EXPECT_FALSE(loaded->config.single_scale());
    EXPECT_EQ(loaded->config.tie, k.tie && !k.emb_proj);  // tied + EmbProj exports untied (§3)
    const auto tokens = tokens_for(seed, m.config.vocab);
    const double err = test::max_rel_error(test::logits_of(loaded->config, loaded->params.data(), tokens),
                                           test::logits_of(m.config, m.params.data(), tokens));
    EXPECT_LE(err, 1e-5) << "ssnorm " << k.ssnorm << " emb_proj " << k.emb_proj << " tie " << k.tie;
  }
}

TEST(HfExport, ReexportIsBitIdentical) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  ScratchDir a, b;
  const auto m = test::random_model(test::tiny_config(true, true, false, 2), seed);
  export_f32(m, a.path());
  auto first = load_model(a.path());
  ASSERT_TRUE(first);
  test::RandomModel again{first->config, std::move(first->params)};
  export_f32(again, b.path());
  auto second = load_model(b.path());
  ASSERT_TRUE(second);
  ASSERT_EQ(second->table.total_elems(), model::ParamTable(again.config).total_elems());
  EXPECT_EQ(0, std::memcmp(second->params.data(), again.params.data(), size_t(second->table.total_elems()) * 4));
}

TEST(HfExport, ShardsAboveTheLimitAndLoadTheSame) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  ScratchDir one, many;
  const auto m = test::random_model(test::tiny_config(false, false, false, 4), seed);
  export_f32(m, one.path());
  export_f32(m, many.path(), 30000);
  EXPECT_FALSE(fs::exists(many / "model.safetensors"));
  std::ifstream in(many / "model.safetensors.index.json");
  const auto index = nlohmann::json::parse(in);
  const auto& map = index["weight_map"];
  EXPECT_EQ(map.size(), size_t(9 * 2 + 3));
  const std::string first = map["model.embed_tokens.weight"];
  EXPECT_TRUE(first.starts_with("model-00001-of-000") && first.ends_with(".safetensors")) << first;
  uint64_t total = 0;
  const model::ParamTable table(m.config);
  for (const auto& p : table.params()) total += uint64_t(p.numel) * 4;
  EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), total);
  auto a = load_model(one.path()), b = load_model(many.path());
  ASSERT_TRUE(a && b) << (b ? "" : b.error().message);
  EXPECT_EQ(0, std::memcmp(a->params.data(), b->params.data(), size_t(a->table.total_elems()) * 4));
}

TEST(HfExport, Bf16RoundsTheFoldedValuesOnce) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  ScratchDir dir;
  const auto m = test::random_model(test::tiny_config(true, true, false, 4), seed);
  const model::PlainLlama plain = model::fold_to_plain_llama(osp::test::ctx(), m.config, m.params.data());
  HfExportOptions opt;  // bf16 by default
  ASSERT_TRUE(export_hf(plain, dir.path(), opt));
  auto loaded = load_model(dir.path());
  ASSERT_TRUE(loaded);
  for (const auto& t : plain.tensors) {
    const auto* p = loaded->table.find(t.name);
    ASSERT_NE(p, nullptr) << t.name;
    const auto d = t.data();
    for (size_t i = 0; i < d.size(); ++i)
      ASSERT_EQ(loaded->params[p->offset + int64_t(i)], round_bf16(d[i])) << t.name << "[" << i << "]";
  }
}

std::string load_error(const fs::path& dir) {
  auto m = load_model(dir);
  return m ? std::string("accepted") : m.error().message;
}

TEST(HfImport, RefusesMalformedFolders) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  const auto m = test::random_model(test::tiny_config(false, false, false, 2), seed);
  using Edit = std::function<void(std::vector<test::OwnedTensor>&)>;
  const std::vector<std::pair<Edit, std::string>> cases = {
      {[](auto& ts) { ts.push_back({"model.layers.0.self_attn.q_proj.bias", SafetensorsDType::kF32, {64}, std::vector<std::byte>(256)}); },
       "bias tensor model.layers.0.self_attn.q_proj.bias"},
      {[](auto& ts) { ts.push_back({"model.extra.weight", SafetensorsDType::kF32, {1}, std::vector<std::byte>(4)}); },
       "unexpected tensor model.extra.weight"},
      {[](auto& ts) { std::erase_if(ts, [](auto& t) { return t.name == "lm_head.weight"; }); },
       "lm_head.weight is missing"},
      {[](auto& ts) { std::erase_if(ts, [](auto& t) { return t.name == "model.norm.weight"; }); },
       "model.norm.weight is missing"},
      {[](auto& ts) { for (auto& t : ts) if (t.name == "model.norm.weight") t.shape = {8, 8}; }, "has shape [8, 8]"},
      {[](auto& ts) { for (auto& t : ts) if (t.name == "model.norm.weight") t.dtype = SafetensorsDType::kI32; }, "dtype I32"},
  };
  for (const auto& [edit, expected] : cases) {
    ScratchDir dir;
    export_f32(m, dir.path());
    test::rewrite_safetensors(dir / "model.safetensors", edit);
    const std::string e = load_error(dir.path());
    EXPECT_NE(e.find(expected), std::string::npos) << e;
  }
  // A leftover inv_freq is ignored with a notice.
  ScratchDir dir;
  export_f32(m, dir.path());
  test::rewrite_safetensors(dir / "model.safetensors", [](auto& ts) {
    ts.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq", SafetensorsDType::kF32, {8}, std::vector<std::byte>(32)});
  });
  std::vector<std::string> notices;
  EXPECT_TRUE(load_hf_llama(dir.path(), &notices));
  EXPECT_EQ(notices.size(), 1u);
}

TEST(HfImport, RefusesInconsistentShardIndexes) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  const auto m = test::random_model(test::tiny_config(false, false, false, 2), seed);
  using Edit = std::function<void(nlohmann::json&)>;
  const std::vector<std::pair<Edit, std::string>> cases = {
      {[](auto& j) { j["weight_map"].erase("model.norm.weight"); }, "does not map to it"},
      {[](auto& j) { j["weight_map"]["model.norm.weight"] = "../model-00001-of-00004.safetensors"; }, "not a plain file name"},
      {[](auto& j) { j["weight_map"]["model.norm.weight"] = j["weight_map"]["model.embed_tokens.weight"]; }, "does not hold it"},
      {[](auto& j) { j["weight_map"]["model.norm.weight"] = "missing.safetensors"; }, "missing.safetensors"},
      {[](auto& j) { j = nlohmann::json::array(); }, "not an index"},
  };
  for (const auto& [edit, expected] : cases) {
    ScratchDir dir;
    export_f32(m, dir.path(), 30000);
    nlohmann::json index;
    { std::ifstream in(dir / "model.safetensors.index.json"); index = nlohmann::json::parse(in); }
    edit(index);
    { std::ofstream out(dir / "model.safetensors.index.json"); out << index.dump(); }
    const std::string e = load_error(dir.path());
    EXPECT_NE(e.find(expected), std::string::npos) << e;
  }
}

TEST(HfImport, TiedFolderWithAStrayHeadUsesTheEmbedding) {
  const uint64_t seed = test::fresh_seed();
  SCOPED_TRACE(seed);
  ScratchDir dir;
  const auto m = test::random_model(test::tiny_config(false, false, true, 2), seed);
  export_f32(m, dir.path());
  test::rewrite_safetensors(dir / "model.safetensors", [](auto& ts) {
    auto e = ts[0];
    for (auto& t : ts) if (t.name == "model.embed_tokens.weight") e = t;
    e.name = "lm_head.weight";
    e.bytes[0] ^= std::byte{1};
    ts.push_back(e);
  });
  std::vector<std::string> notices;
  auto loaded = load_hf_llama(dir.path(), &notices);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("differs"), std::string::npos);
}

}  // namespace
}  // namespace osp::io
