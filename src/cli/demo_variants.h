// The demo's model and the paper's ablation rows (osp-method.md §4.1) as run configs.
// The setting follows the prototype of ../shared/design/small-scale-findings.md (d = 128,
// 4 layers, seq 128, batch 16, lr 1e-2 for both optimizers, 5% warmup, cosine to 10%), with
// osp's own BPE tokenizer of the demo corpus instead of bytes.
#pragma once
#include <string>
#include <vector>

#include "core/result.h"
#include "train/run_config.h"

namespace osp::cli {

struct DemoVariant {
  std::string name;         // "adam", "muon-only", "muon", "muon+ssnorm", "muon+embproj", "osp"
  std::string paper_row;    // the paper's model name for orientation
  std::string groups, norm;
  bool emb_proj;
};

const std::vector<DemoVariant>& demo_variants();

// The run config of one variant: same data, seed, token budget and schedule for every variant.
// `overrides` ("section.key=value", as `osp train --set`) apply to every variant alike.
Result<train::RunConfig> demo_run_config(const DemoVariant& v, const std::string& data_dir, int64_t vocab,
                                         int64_t steps, int64_t seed,
                                         const std::vector<std::string>& overrides = {});

}  // namespace osp::cli
