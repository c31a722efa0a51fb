// Run-folder reading and page assembly: malformed and missing inputs give one-line notes naming
// the file, and the page still renders every section.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/fresh_seed.h"
#include "report/escape.h"
#include "report/report.h"
#include "report/run_data.h"

namespace osp::report {
namespace {

namespace fs = std::filesystem;

// A fresh temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("osp_report_test_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

bool any_note_contains(const std::vector<std::string>& notes, const std::string& a,
                       const std::string& b = "") {
  for (const auto& n : notes)
    if (n.find(a) != std::string::npos && n.find(b) != std::string::npos) return true;
  return false;
}

TEST(ReportMetrics, MalformedLinesAreSkippedWithOneNote) {
  std::vector<std::string> notes;
  const std::string text =
      "{\"step\": 1, \"loss\": 10.5, \"lr\": 0.001}\n"
      "{\"step\": 2, \"loss\": 9.\n"  // truncated: a crash mid-write
      "\n"
      "[1, 2]\n"
      "{\"step\": 3, \"loss\": null, \"val_loss\": 9.1}\r\n"
      "{\"loss\": 1}\n"
      "{\"step\": 4, \"loss\": 8.0, \"kurtosis\": 2.5, \"max_act_ratio\": 11}";
  const TrainingMetrics m = parse_metrics(text, "run/metrics.jsonl", notes);
  ASSERT_EQ(m.loss.size(), 2u);
  EXPECT_EQ(m.loss[1], std::make_pair(4.0, 8.0));
  ASSERT_EQ(m.val_loss.size(), 1u);
  EXPECT_EQ(m.val_loss[0].first, 3.0);
  ASSERT_EQ(m.kurtosis.size(), 1u);
  ASSERT_EQ(m.max_act_ratio.size(), 1u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "run/metrics.jsonl: line 2: not valid JSON (3 malformed lines skipped)");
}

TEST(ReportMetrics, ValuesOfAnotherTypeAreNamedNotDrawn) {
  std::vector<std::string> notes;
  const TrainingMetrics m = parse_metrics(
      "{\"step\": 1, \"loss\": 2, \"kurtosis\": [1, 2]}\n{\"step\": 2, \"kurtosis\": \"high\"}\n",
      "m.jsonl", notes);
  EXPECT_EQ(m.loss.size(), 1u);
  EXPECT_TRUE(m.kurtosis.empty());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "m.jsonl: line 1: \"kurtosis\" is not a number (2 such values ignored)");
}

TEST(ReportMetrics, CurvesAreSortedByStep) {
  std::vector<std::string> notes;
  const TrainingMetrics m = parse_metrics(
      "{\"step\": 3, \"loss\": 1}\n{\"step\": 1, \"loss\": 3}\n{\"step\": 2, \"loss\": 2}\n", "m",
      notes);
  ASSERT_EQ(m.loss.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(m.loss[i].first, double(i + 1));
}

TEST(ReportMetrics, EmptyInputGivesNoCurvesAndNoNotes) {
  std::vector<std::string> notes;
  const TrainingMetrics m = parse_metrics("", "m.jsonl", notes);
  EXPECT_TRUE(m.loss.empty());
  EXPECT_TRUE(notes.empty());
}

TEST(ReportEval, WrongTypesAreIgnoredWithNotes) {
  std::vector<std::string> notes;
  const auto e = parse_eval(R"({"name": "osp", "ppl_fp": "12", "ppl_w4a4kv4_rtn": 15.5,
                               "per_state_kurtosis": [0.1, "x", 0.3], "last_state_channel_max": 5,
                               "command": "osp eval runs/osp", "max_act_channel": 17, "extra": 1})",
                            "e.json", notes);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name, "osp");
  EXPECT_TRUE(std::isnan(e->ppl_fp));
  EXPECT_DOUBLE_EQ(e->ppl_rtn, 15.5);
  EXPECT_EQ(e->max_act_channel, 17);
  ASSERT_EQ(e->per_state_kurtosis.size(), 3u);
  EXPECT_TRUE(std::isnan(e->per_state_kurtosis[1]));
  EXPECT_TRUE(e->last_state_channel_max.empty());
  EXPECT_TRUE(any_note_contains(notes, "e.json", "\"ppl_fp\" is not a number"));
  EXPECT_TRUE(any_note_contains(notes, "e.json", "per_state_kurtosis"));
  EXPECT_TRUE(any_note_contains(notes, "e.json", "last_state_channel_max"));
  notes.clear();
  EXPECT_FALSE(parse_eval("{\"ppl_fp\": 1", "e.json", notes).has_value());
  EXPECT_TRUE(any_note_contains(notes, "e.json", "not valid JSON"));
}

TEST(ReportRunFolder, EmptyFolderReadsWithNotes) {
  TempDir d;
  const auto run = read_run(d.path());
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->name, d.path().filename().string());
  EXPECT_FALSE(run->config.has_value());
  EXPECT_FALSE(run->eval.has_value());
  EXPECT_TRUE(any_note_contains(run->notes, "config.json", "missing"));
  EXPECT_TRUE(any_note_contains(run->notes, "metrics.jsonl", "missing"));
  EXPECT_EQ(run->notes.size(), 2u);  // eval.json is optional: no note
}

TEST(ReportRunFolder, NameIsTheFolderNameForAnySpelling) {
  TempDir d;
  fs::create_directories(d.path() / "adam");
  for (const auto& spelling : {d.path() / "adam", d.path() / "adam/", d.path() / "adam" / "."})
    EXPECT_EQ(read_run(spelling)->name, "adam") << spelling;
}

TEST(ReportRunFolder, MissingFolderIsAnErrorNamingIt) {
  const auto run = read_run("/nonexistent/osp-run");
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().message, "/nonexistent/osp-run: not a directory");
}

TEST(ReportRunFolder, NameAndRecipeComeFromEvalAndConfig) {
  TempDir d;
  d.write("config.json",
          R"({"model": {"norm": "ssnorm", "emb_proj": true}, "optim": {"groups": "muon"}})");
  d.write("metrics.jsonl", "{\"step\": 1, \"loss\": 3}\n");
  d.write("eval.json", R"({"name": "osp <seed 1>", "ppl_fp": 12.0})");
  const auto run = read_run(d.path());
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->name, "osp <seed 1>");
  ASSERT_TRUE(run->config.has_value());
  EXPECT_EQ(recipe_of(*run->config), "muon \xC2\xB7 ssnorm \xC2\xB7 emb_proj");
  EXPECT_TRUE(run->notes.empty());
}

TEST(ReportRunFolder, MalformedConfigIsNamed) {
  TempDir d;
  d.write("config.json", "[1, 2");
  d.write("metrics.jsonl", "");
  const auto run = read_run(d.path());
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(any_note_contains(run->notes, (d.path() / "config.json").string(), "not valid JSON"));
}

TEST(ReportPage, RendersEverySectionForEmptyInputs) {
  RunData odd;
  odd.name = "a<b";
  ReportOptions options;
  options.title = "T & T";
  for (const auto& runs : {std::vector<RunData>{}, std::vector<RunData>{odd}}) {
    const std::string html = render_report(runs, options);
    for (const char* s : {kSectionLoss, kSectionOutliers, kSectionLayers, kSectionChannels,
                          kSectionQuant, kSectionPaper, kSectionProvenance})
      EXPECT_NE(html.find(s), std::string::npos) << s;
    EXPECT_NE(html.find("<title>T &amp; T</title>"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("a<b"), std::string::npos);
    EXPECT_NE(html.find("prefers-color-scheme: dark"), std::string::npos);
  }
}

TEST(ReportPage, ShowsOurNumbersNotesAndThePapersSeparately) {
  RunData r;
  r.name = "adam";
  r.notes.push_back("runs/adam/metrics.jsonl: line 3: not valid JSON (1 malformed line skipped)");
  r.metrics.loss = {{1, 10}, {2, 9}};
  r.metrics.kurtosis = {{1, 0.5}, {2, 300}};
  r.eval = EvalResults{};
  r.eval->ppl_fp = 20, r.eval->ppl_rtn = 30, r.eval->ppl_had = 21, r.eval->kurtosis_token = 7.25;
  const std::string html = render_report({r}, {});
  EXPECT_NE(html.find(kSectionNotes), std::string::npos);
  EXPECT_NE(html.find("line 3: not valid JSON"), std::string::npos);
  EXPECT_NE(html.find("+50%"), std::string::npos);  // 30 vs 20
  EXPECT_NE(html.find("+5%"), std::string::npos);   // 21 vs 20
  EXPECT_NE(html.find("7.25"), std::string::npos);
  EXPECT_NE(html.find("(log scale)"), std::string::npos);  // kurtosis spans 0.5 .. 300
  for (const char* paper :
       {"1818.56", "361.35", "1575.12", "66.69", "703.23", "0.04", "8e4",  "3e4",  "8e5",  "24.8",
        "1e4",     "15.8",   "44.2",    "34.1",  "114.6",  "22.3", "19.6", "13.5", "11.7", "12.3"})
    EXPECT_NE(html.find(paper), std::string::npos) << paper;
  EXPECT_NE(html.find("NOT OUR MEASUREMENTS"), std::string::npos);
  EXPECT_NE(html.find("has &quot;max_act_ratio&quot; records"), std::string::npos);
}

TEST(ReportPage, ShowsContinuationsOnlyWhenARunHasThem) {
  RunData r;
  r.name = "osp";
  r.eval = EvalResults{};
  EXPECT_EQ(render_report({r}, {}).find(kSectionText), std::string::npos);
  std::vector<std::string> notes;
  r.eval = parse_eval(R"({"continuation": {"prompt": "It was", "fp": " a <fine> day", "w4a4kv4": " a day a day"}})",
                      "eval.json", notes);
  ASSERT_TRUE(r.eval.has_value());
  EXPECT_TRUE(notes.empty());
  const std::string html = render_report({r}, {});
  EXPECT_NE(html.find(kSectionText), std::string::npos);
  EXPECT_NE(html.find(" a &lt;fine&gt; day"), std::string::npos);  // escaped
  EXPECT_NE(html.find(" a day a day"), std::string::npos);
}

// The scale section appears only when one name comes at two or more widths, and shows each
// point's relative 4-bit losses (fresh random values, so no constant could pass).
TEST(ReportPage, ScaleTrendNeedsOneNameAtSeveralWidths) {
  const uint64_t seed = osp::test::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> ppl(20, 200), rel(0.01, 0.2);
  auto run = [&](const std::string& name, int hidden) {
    RunData r;
    r.name = name;
    r.dir = "runs/" + name + std::to_string(hidden);
    r.config = nlohmann::json{{"model", {{"hidden", hidden}}},
                              {"train", {{"steps", 720}}},
                              {"optim", {{"groups", name == "osp" ? "muon" : "adam"}, {"adamw", {{"lr", 0.005}}},
                                         {"muon", {{"lr", 0.02}}}}}};
    r.eval = EvalResults{};
    r.eval->ppl_fp = ppl(rng);
    r.eval->ppl_rtn = r.eval->ppl_fp * (1 + rel(rng));
    r.eval->ppl_a4 = r.eval->ppl_fp * (1 + rel(rng));
    r.eval->kurtosis_token = rel(rng) * 50;
    return r;
  };
  const std::vector<RunData> one_width = {run("adam", 128), run("osp", 128), run("adam", 128)};
  EXPECT_EQ(render_report(one_width, {}).find(kSectionScale), std::string::npos);
  const RunData small = run("adam", 64), large = run("adam", 256);
  const std::string html = render_report({large, run("osp", 128), small}, {});
  ASSERT_NE(html.find(kSectionScale), std::string::npos);
  const size_t begin = html.find(kSectionScale);
  const std::string scale = html.substr(begin, html.find("</section>", begin) - begin);
  EXPECT_EQ(scale.find("runs/osp128"), std::string::npos);  // one width: no trend for osp
  for (const RunData* r : {&small, &large}) {
    const double d = (r->eval->ppl_rtn / r->eval->ppl_fp - 1) * 100;
    EXPECT_NE(scale.find(r->dir.string()), std::string::npos);
    EXPECT_NE(scale.find(fmt::format("+{}%", format_number(d, 3))), std::string::npos) << d;
  }
  EXPECT_LT(scale.find("runs/adam64"), scale.find("runs/adam256"));  // sorted by width
  EXPECT_NE(scale.find("steps 720 \xC2\xB7 AdamW lr 0.005"), std::string::npos);  // what else differs
  EXPECT_EQ(scale.find("Muon lr"), std::string::npos);  // adam runs have no Muon group
}

// Mutated inputs (bytes flipped, cut, duplicated) never crash the reader or the page, and every
// section still renders: the report is most wanted when a run went wrong.
TEST(ReportRobustness, MutatedInputsStillRender) {
  const std::string metrics =
      "{\"step\": 1, \"loss\": 10.5, \"val_loss\": 10.9, \"kurtosis\": 0.4, \"max_act_ratio\": 6}\n"
      "{\"step\": 2, \"loss\": 1e308, \"kurtosis\": -3}\n{\"step\": -1e300, \"loss\": -1e300}\n";
  const std::string eval =
      R"({"name": "r", "ppl_fp": 12.5, "ppl_w4a4kv4_rtn": 1e300, "ppl_w4a4kv4_ffn_had": 0, "kurtosis_token": 0.1,)"
      R"( "per_state_kurtosis": [0, 1e-300, 5, 1e300], "last_state_channel_max": [0, 0, 1e-320, 7, -3, 1e308]})";
  std::mt19937 gen(12345);
  for (int trial = 0; trial < 300; ++trial) {
    std::string m = metrics, e = eval;
    for (std::string* s : {&m, &e}) {
      const int edits = int(gen() % 4);
      for (int k = 0; k < edits && !s->empty(); ++k) {
        const size_t at = gen() % s->size();
        switch (gen() % 3) {
          case 0:
            (*s)[at] = char(gen() % 256);
            break;
          case 1:
            s->resize(at);
            break;
          default:
            s->insert(at, s->substr(at / 2, gen() % 16));
            break;
        }
      }
    }
    RunData r;
    r.name = "mutant";
    r.metrics = parse_metrics(m, "metrics.jsonl", r.notes);
    r.eval = parse_eval(e, "eval.json", r.notes);
    const std::string html = render_report({r}, {});
    ASSERT_NE(html.find(kSectionProvenance), std::string::npos) << "trial " << trial;
    for (const char* leak : {"nan,", ",nan", "\"nan", "\"-nan", "inf,", ",inf", "\"inf", "\"-inf"})
      ASSERT_EQ(html.find(leak), std::string::npos)
          << "trial " << trial << ": " << leak;  // no non-finite coordinates
  }
}

}  // namespace
}  // namespace osp::report
