// Demo variants and their configs.
#include "cli/demo_variants.h"

namespace osp::cli {

const std::vector<DemoVariant>& demo_variants() {
  static const std::vector<DemoVariant> v = {
      {"adam", "OSP-1.4B-100B-Adam", "adam", "rms", false},
      {"muon-only", "OSP-1.4B-100B-Muon-Only", "muon-only", "rms", false},
      {"muon", "OSP-1.4B-100B-Muon", "muon", "rms", false},
      {"muon+ssnorm", "OSP-1.4B-100B-Muon-SSNorm", "muon", "ssnorm", false},
      {"muon+embproj", "OSP-1.4B-100B-Muon-EmbProj", "muon", "rms", true},
      {"osp", "OSP-1.4B-100B-Muon-SSNorm-EmbProj", "muon", "ssnorm", true},
  };
  return v;
}

Result<train::RunConfig> demo_run_config(const DemoVariant& v, const std::string& data_dir, int64_t vocab,
                                         int64_t steps, int64_t seed, const std::vector<std::string>& overrides) {
  nlohmann::json j = {
      {"model",
       {{"layers", 4}, {"hidden", 128}, {"heads", 4}, {"ffn", 384}, {"vocab", vocab}, {"context", 128},
        {"norm", v.norm}, {"emb_proj", v.emb_proj}, {"tie", false}}},
      {"optim",
       {{"groups", v.groups},
        {"clip", 1.0},
        {"adamw", {{"lr", 1e-2}, {"wd", 0.1}}},
        {"muon", {{"lr", 1e-2}, {"wd", 0.1}}},
        {"schedule", {{"kind", "cosine"}, {"warmup_steps", std::max<int64_t>(1, steps / 20)}, {"min_ratio", 0.1}}}}},
      {"data", {{"train", data_dir}}},
      {"train", {{"steps", steps}, {"batch", 16}, {"seq", 128}, {"seed", seed}, {"log_every", 50}}},
      {"eval", {{"every", std::max<int64_t>(1, steps / 8)}, {"batches", 8}, {"watch_every", std::max<int64_t>(1, steps / 12)},
                {"watch_rows", 4}}},
  };
  for (const auto& o : overrides) OSP_TRY(train::apply_override(j, o));
  return train::run_config_from_json(j);
}

}  // namespace osp::cli
