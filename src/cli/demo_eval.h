// Evaluation of one demo run (what `osp demo` measures per variant) and the demo's outputs: the
// paper-style table and the HTML report.
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/demo_variants.h"
#include "core/result.h"
#include "data/token_loader.h"

namespace osp::cli {

struct DemoResult {
  std::string name;
  nlohmann::json json;  // what eval.json holds (see report/ for the keys)
};

// Loads the run's latest checkpoint and measures, on the validation split: perplexity at
// 16-16-16 and at W4A4KV4 (RTN, and RTN with the FFN online Hadamard), excess kurtosis in the
// token and sequence protocols, per-state kurtosis, max |act|/RMS and the per-channel max |act|
// of the last hidden state, and the greedy continuation of one prompt at FP and at W4A4KV4.
// Writes RUN/eval.json.
Result<DemoResult> evaluate_demo_run(const DemoVariant& variant, const std::filesystem::path& run_dir,
                                     const data::TokenDataset& val, const std::string& command);

std::string format_demo_table(const std::vector<DemoResult>& results);

// OUT/report.html from the run folders of OUT/runs.
Status write_demo_report(const std::filesystem::path& out, const std::vector<DemoResult>& results);

}  // namespace osp::cli
