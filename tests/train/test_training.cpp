// Training end to end on real text (a slice of the demo corpus): every optimizer group learns,
// resume is bit-exact, and a SIGKILL while a checkpoint is being written loses nothing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <omp.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "core/rng.h"
#include "data/demo_corpus.h"
#include "data/prepare.h"
#include "io/model_file.h"
#include "io/safetensors_reader.h"
#include "ops/gemm.h"
#include "train/trainer.h"

namespace osp::train {
namespace {

namespace fs = std::filesystem;

// A small prepared dataset (vocab 512) from the first ~600 KB of the demo corpus, built once.
class TrainingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Per process: ctest runs each test of this suite as its own process, side by side.
    root_ = fs::path(testing::TempDir()) / ("osp_train_test_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    const std::string corpus = (root_ / "corpus.jsonl").string();
    auto info = data::build_demo_corpus(corpus);
    ASSERT_TRUE(info.ok()) << info.error().message;
    std::ifstream in(corpus);
    std::ofstream out(root_ / "slice.jsonl");
    std::string line;
    size_t bytes = 0;
    while (bytes < 600000 && std::getline(in, line)) out << line << "\n", bytes += line.size();
    out.close();
    data::PrepareOptions o;
    o.inputs = {(root_ / "slice.jsonl").string()};
    o.out_dir = (root_ / "data").string();
    o.vocab_size = 512;
    o.val_fraction = 0.05;
    o.progress = false;
    auto r = data::prepare_dataset(o, [](const std::string&) {});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  static RunConfig config(const std::string& groups, int64_t steps) {
    nlohmann::json j = {
        {"model", {{"layers", 2}, {"hidden", 64}, {"heads", 4}, {"kv_heads", 2}, {"vocab", 512}, {"context", 64}}},
        {"optim", {{"groups", groups}, {"adamw", {{"lr", 1e-2}}}, {"muon", {{"lr", 1e-2}}}}},
        {"data", {{"train", (root_ / "data").string()}}},
        {"train", {{"steps", steps}, {"batch", 8}, {"seq", 64}, {"log_every", 1000}}},
        {"eval", {{"every", 0}, {"batches", 4}}}};
    if (groups != "adam") j["model"]["norm"] = "ssnorm", j["model"]["emb_proj"] = true;
    return run_config_from_json(j).value();
  }

  static data::TokenDataset open(const char* split) {
    return data::TokenDataset::open((root_ / "data").string(), split).value();
  }

  static std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static fs::path root_;
};
fs::path TrainingTest::root_;

// Entropy (nats) of the unigram distribution of the training tokens: what a model that ignores
// context at best reaches.
double unigram_entropy(const data::TokenDataset& d) {
  std::vector<data::TokenId> t(d.tokens());
  d.read(0, d.tokens(), t.data());
  std::map<data::TokenId, double> count;
  for (auto id : t) count[id] += 1;
  double h = 0;
  for (auto& [id, c] : count) h -= c / double(t.size()) * std::log(c / double(t.size()));
  return h;
}

TEST_F(TrainingTest, EveryGroupLearnsBelowTheUnigramEntropy) {
  const auto train = open("train"), val = open("val");
  const double h = unigram_entropy(train);
  for (const char* groups : {"adam", "muon", "muon-only"}) {
    const fs::path dir = root_ / (std::string("learn_") + groups);
    auto r = run_training(config(groups, 150), dir, train, &val, std::nullopt);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_LT(r->final_val_loss, h - 0.5) << groups << ": unigram entropy " << h;
  }
}

TEST_F(TrainingTest, ResumeIsBitExact) {
  const auto train = open("train"), val = open("val");
  RunConfig full = config("muon", 12);
  full.optim.schedule.total_steps = 12;
  ASSERT_TRUE(run_training(full, root_ / "full", train, &val, std::nullopt).ok());
  RunConfig half = full;
  half.train.steps = 6;  // same schedule (total_steps fixed), stops halfway
  ASSERT_TRUE(run_training(half, root_ / "half", train, &val, std::nullopt).ok());
  auto info = read_checkpoint_info(io::latest_checkpoint(root_ / "half").value());
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->state.step, 6);
  ASSERT_TRUE(run_training(full, root_ / "half", train, &val, *info).ok());

  auto losses = [](const fs::path& f) {
    std::vector<double> l;
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line)) l.push_back(nlohmann::json::parse(line)["loss"].get<double>());
    return l;
  };
  const auto a = losses(root_ / "full" / "metrics.jsonl"), b = losses(root_ / "half" / "metrics.jsonl");
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "step " << i + 1;  // bitwise
  const auto ckpt_a = io::latest_checkpoint(root_ / "full").value();
  const auto ckpt_b = io::latest_checkpoint(root_ / "half").value();
  for (const char* f : {"model.safetensors", "optimizer.safetensors"})
    EXPECT_TRUE(read_file(ckpt_a / f) == read_file(ckpt_b / f)) << f << " differs";
}

std::vector<double> metric(const fs::path& f, const char* key) {
  std::vector<double> l;
  std::ifstream in(f);
  std::string line;
  while (std::getline(in, line)) l.push_back(nlohmann::json::parse(line)[key].get<double>());
  return l;
}

bool cpu_has_bf16() {
  ops::Context ctx = ops::Context::cpu();
  return ops::bf16_missing_cpu_feature(ctx).empty();
}

// bf16 mixed precision (OSP recipe, Muon with bf16 NS5) follows the fp32 run within 3% at every
// step of 60, and its checkpoint holds only the fp32 masters and fp32 optimizer state.
TEST_F(TrainingTest, Bf16TracksFp32AndCheckpointsFp32) {
  if (!cpu_has_bf16()) GTEST_SKIP() << "this CPU has no native bf16; train.precision=bf16 is refused";
  const auto train = open("train"), val = open("val");
  RunConfig fp32 = config("muon", 60);
  RunConfig bf16 = fp32;
  bf16.train.precision = model::Precision::kBF16;
  bf16.optim.muon.ns_precision = optim::NsPrecision::kBF16;  // what a bf16 config gets by default
  ASSERT_TRUE(run_training(fp32, root_ / "p_fp32", train, &val, std::nullopt).ok());
  ASSERT_TRUE(run_training(bf16, root_ / "p_bf16", train, &val, std::nullopt).ok());
  const auto a = metric(root_ / "p_fp32" / "metrics.jsonl", "loss"), b = metric(root_ / "p_bf16" / "metrics.jsonl", "loss");
  ASSERT_EQ(a.size(), 60u);
  ASSERT_EQ(b.size(), 60u);
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_LT(std::abs(b[i] - a[i]) / a[i], 0.03) << "step " << i + 1 << ": fp32 " << a[i] << ", bf16 " << b[i];
    differs |= a[i] != b[i];
  }
  EXPECT_TRUE(differs) << "the bf16 run is bit-identical to fp32: no bf16 arithmetic happened";
  const fs::path ckpt = io::latest_checkpoint(root_ / "p_bf16").value();
  for (const char* f : {"model.safetensors", "optimizer.safetensors"}) {
    auto st = io::SafetensorsReader::open(ckpt / f);
    ASSERT_TRUE(st.ok()) << st.error().message;
    for (const auto& t : st->tensors()) {
      if (std::string(f) == "model.safetensors" || t.name.rfind("adamw.", 0) == 0 || t.name.rfind("muon.", 0) == 0) {
        EXPECT_EQ(t.dtype, io::SafetensorsDType::kF32) << f << ": " << t.name;
      }
    }
  }
  auto info = read_checkpoint_info(ckpt);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->config.train.precision, model::Precision::kBF16);  // stored with the run
}

TEST_F(TrainingTest, Bf16ResumeIsBitExact) {
  if (!cpu_has_bf16()) GTEST_SKIP() << "this CPU has no native bf16";
  const auto train = open("train"), val = open("val");
  RunConfig full = config("muon", 8);
  full.optim.schedule.total_steps = 8;
  full.train.precision = model::Precision::kBF16;
  full.optim.muon.ns_precision = optim::NsPrecision::kBF16;
  ASSERT_TRUE(run_training(full, root_ / "b_full", train, &val, std::nullopt).ok());
  RunConfig half = full;
  half.train.steps = 4;
  ASSERT_TRUE(run_training(half, root_ / "b_half", train, &val, std::nullopt).ok());
  auto info = read_checkpoint_info(io::latest_checkpoint(root_ / "b_half").value());
  ASSERT_TRUE(info.ok()) << info.error().message;
  ASSERT_TRUE(run_training(full, root_ / "b_half", train, &val, *info).ok());
  const auto a = metric(root_ / "b_full" / "metrics.jsonl", "loss"), b = metric(root_ / "b_half" / "metrics.jsonl", "loss");
  ASSERT_EQ(a.size(), 8u);
  ASSERT_EQ(b.size(), 8u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "step " << i + 1;  // bitwise
  for (const char* f : {"model.safetensors", "optimizer.safetensors"})
    EXPECT_TRUE(read_file(io::latest_checkpoint(root_ / "b_full").value() / f) ==
                read_file(io::latest_checkpoint(root_ / "b_half").value() / f))
        << f << " differs";
}

TEST_F(TrainingTest, MismatchedConfigIsRefusedOnResume) {
  const auto train = open("train");
  RunConfig c = config("adam", 2);
  ASSERT_TRUE(run_training(c, root_ / "mismatch", train, nullptr, std::nullopt).ok());
  auto info = read_checkpoint_info(io::latest_checkpoint(root_ / "mismatch").value()).value();
  RunConfig other = c;
  other.model.hidden = 128;
  auto r = run_training(other, root_ / "mismatch", train, nullptr, info);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("model.hidden"), std::string::npos) << r.error().message;
}

// Runs `osp train` with a checkpoint every step and kills it with SIGKILL at random moments;
// whatever the moment, the latest checkpoint loads and its step only ever moves forward.
TEST_F(TrainingTest, SigkillDuringCheckpointLeavesTheLatestLoadable) {
  const fs::path run = root_ / "killed";
  const fs::path cfg = root_ / "killed.toml";
  std::ofstream(cfg) << "[model]\nlayers = 2\nhidden = 512\nheads = 8\nvocab = 512\ncontext = 16\n"
                     << "[data]\ntrain = \"" << (root_ / "data").string() << "\"\n"
                     << "[train]\nsteps = 1000\nbatch = 1\nseq = 16\nsave_every = 1\nlog_every = 1000\n"
                     << "[eval]\nevery = 0\nbatches = 1\n";
  Rng rng(42);
  int64_t last_step = 0, kills_after_first_save = 0, mid_save_kills = 0;
  for (int attempt = 0; attempt < 12; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    const bool fresh = !io::latest_checkpoint(run).ok();  // killed before any checkpoint so far
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const int log = ::open((run.string() + ".log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(log, 1);
      dup2(log, 2);
      if (fresh) execl(OSP_BIN, OSP_BIN, "train", cfg.c_str(), "--run-dir", run.c_str(), nullptr);
      else execl(OSP_BIN, OSP_BIN, "train", "--resume", run.c_str(), nullptr);
      _exit(127);
    }
    // Wait (up to three minutes, the machine may be busy) until this process has written a checkpoint
    // of its own, then kill it at a random moment: with a save after every step, mostly mid-save.
    const std::string before = read_file(run / "checkpoints" / "latest");
    for (int i = 0; i < 1800 && read_file(run / "checkpoints" / "latest") == before; ++i) usleep(100000);
    usleep(useconds_t(rng.below(400000)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "osp train exited by itself (status " << status << "):\n"
                                     << read_file(run.string() + ".log");
    for (const auto& e : fs::directory_iterator(run / "checkpoints"))  // a save was cut short
      mid_save_kills += e.path().filename().string().rfind(".step_", 0) == 0;
    auto latest = io::latest_checkpoint(run);
    if (!latest) continue;  // killed before the first checkpoint
    ++kills_after_first_save;
    auto info = read_checkpoint_info(*latest);
    ASSERT_TRUE(info.ok()) << info.error().message;
    auto model = io::load_model(run);
    ASSERT_TRUE(model.ok()) << model.error().message;
    EXPECT_GE(info->state.step, last_step);
    last_step = info->state.step;
  }
  EXPECT_EQ(kills_after_first_save, 12);
  EXPECT_GE(mid_save_kills, 1) << "no kill landed while a checkpoint was being written";
  EXPECT_GT(last_step, 1);
}

}  // namespace
}  // namespace osp::train
