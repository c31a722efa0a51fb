// Run configuration: TOML parsing, overrides, and refusal of unknown keys and bad values by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "train/run_config.h"

namespace osp::train {
namespace {

std::filesystem::path write_toml(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::path(testing::TempDir()) / name;
  std::ofstream(p) << text;
  return p;
}

const char* kBase = R"(
[model]
layers = 2
hidden = 64
heads = 4
vocab = 500
[optim]
groups = "muon"
[optim.adamw]
lr = 1e-3
[train]
steps = 40
batch = 4
seq = 32
)";

TEST(RunConfig, ReadsTomlAndFillsDefaults) {
  auto c = load_run_config(write_toml("a.toml", kBase));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->model.hidden, 64);
  EXPECT_EQ(c->model.ffn, 256);  // spec default for D = 64
  EXPECT_EQ(c->optim.groups, optim::GroupsKind::kMuon);
  EXPECT_DOUBLE_EQ(c->optim.adamw.lr, 1e-3);
  EXPECT_DOUBLE_EQ(c->optim.muon.lr, 5e-4);        // spec §2.5 default
  EXPECT_EQ(c->optim.schedule.total_steps, 40);    // from train.steps
  EXPECT_EQ(c->tokens_per_step(), 4 * 32);
}

TEST(RunConfig, OverridesApplyWithTomlTypes) {
  auto c = load_run_config(write_toml("b.toml", kBase),
                           {"optim.groups=muon-only", "model.emb_proj=true", "optim.muon.lr=0.02",
                            "train.batch_tokens=512", "model.norm=ssnorm"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->optim.groups, optim::GroupsKind::kMuonOnly);
  EXPECT_TRUE(c->model.emb_proj);
  EXPECT_EQ(c->model.norm, model::NormKind::kSingleScale);
  EXPECT_DOUBLE_EQ(c->optim.muon.lr, 0.02);
  EXPECT_EQ(c->train.accum, 4);  // 512 tokens / (4 x 32)
}

TEST(RunConfig, PrecisionSetsTheNs5DtypeUnlessGiven) {
  auto fp32 = load_run_config(write_toml("p.toml", kBase));
  ASSERT_TRUE(fp32.ok()) << fp32.error().message;
  EXPECT_EQ(fp32->train.precision, model::Precision::kF32);
  EXPECT_EQ(fp32->optim.muon.ns_precision, optim::NsPrecision::kF32);
  auto bf16 = load_run_config(write_toml("p.toml", kBase), {"train.precision=bf16"});
  ASSERT_TRUE(bf16.ok()) << bf16.error().message;
  EXPECT_EQ(bf16->train.precision, model::Precision::kBF16);
  EXPECT_EQ(bf16->optim.muon.ns_precision, optim::NsPrecision::kBF16);  // the paper's NS5 arithmetic
  auto mixed = load_run_config(write_toml("p.toml", kBase), {"train.precision=bf16", "optim.muon.ns_dtype=fp32"});
  ASSERT_TRUE(mixed.ok()) << mixed.error().message;
  EXPECT_EQ(mixed->optim.muon.ns_precision, optim::NsPrecision::kF32);
  // Stored and read back unchanged (checkpoints keep the resolved setting).
  auto back = run_config_from_json(run_config_to_json(*bf16));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->train.precision, model::Precision::kBF16);
  EXPECT_EQ(back->optim.muon.ns_precision, optim::NsPrecision::kBF16);
}

void expect_refused(const std::vector<std::string>& overrides, const std::string& needle) {
  auto c = load_run_config(write_toml("c.toml", kBase), overrides);
  ASSERT_FALSE(c.ok()) << "accepted " << overrides[0];
  EXPECT_NE(c.error().message.find(needle), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("c.toml"), std::string::npos) << c.error().message;
}

TEST(RunConfig, RefusesUnknownKeysAndBadValuesByName) {
  expect_refused({"train.stepz=3"}, "train.stepz");
  expect_refused({"optim.adamw.beta1=1.5"}, "optim.adamw.beta1");
  expect_refused({"train.batch=0"}, "train.batch");
  expect_refused({"train.seq=\"long\""}, "train.seq");
  expect_refused({"model.heads=3"}, "model.heads");
  expect_refused({"optim.schedule.kind=linear"}, "optim.schedule.kind");
  expect_refused({"train.batch_tokens=100"}, "train.batch_tokens");
  expect_refused({"extra.key=1"}, "extra");
  expect_refused({"train.seq=4096"}, "model.context");
  expect_refused({"train.precision=fp16"}, "train.precision");
}

TEST(RunConfig, SyntaxErrorsNameTheFileAndLine) {
  auto c = load_run_config(write_toml("d.toml", "[model]\nlayers = = 2\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("d.toml"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("line 2"), std::string::npos) << c.error().message;
}

TEST(RunConfig, JsonRoundTripIsStable) {
  auto c = load_run_config(write_toml("e.toml", kBase), {"optim.muon.ns_dtype=bf16"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto back = run_config_from_json(run_config_to_json(*c));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(run_config_to_json(*back), run_config_to_json(*c));
}

}  // namespace
}  // namespace osp::train

namespace osp::train {
namespace {

TEST(RunConfig, EveryShippedPresetLoads) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(OSP_SOURCE_DIR "/configs")) {
    if (e.path().extension() != ".toml") continue;
    auto c = load_run_config(e.path());
    EXPECT_TRUE(c.ok()) << e.path() << ": " << c.error().message;
    ++n;
  }
  EXPECT_GE(n, 4);
}

}  // namespace
}  // namespace osp::train
