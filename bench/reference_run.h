// Runs a reference benchmark (a Python script printing one JSON object) and returns that object;
// null when the command fails or prints no JSON, so a benchmark can still print its own figures.
#pragma once
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <omp.h>

#include "model/config.h"

namespace osp::bench {

inline nlohmann::json run_reference(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  if (pclose(pipe) != 0) {
    std::fprintf(stderr, "reference run failed: %s\n", command.c_str());
    return {};
  }
  auto j = nlohmann::json::parse(out, nullptr, false);
  return j.is_object() ? j : nlohmann::json();
}

// The PyTorch side of bench_train_step / bench_eval (torch_train_step.py) for the same model,
// batch and thread count: forward + loss + backward, or with forward_only the forward and loss.
inline std::string torch_step_command(const model::ModelConfig& c, int64_t batch, int64_t seq, int steps,
                                      bool forward_only) {
  const nlohmann::json j = {{"layers", c.layers}, {"hidden", c.hidden}, {"heads", c.heads},
                            {"kv_heads", c.kv_heads}, {"ffn", c.ffn}, {"vocab", c.vocab},
                            {"norm", model::norm_kind_name(c.norm)}, {"emb_proj", c.emb_proj}, {"tie", c.tie}};
  return fmt::format("'{}' '{}/torch_train_step.py'{} --config '{}' --batch {} --seq {} --steps {} --threads {}",
                     OSP_BENCH_PYTHON, OSP_BENCH_DIR, forward_only ? " --forward-only" : "", j.dump(), batch, seq,
                     steps, omp_get_max_threads());
}

}  // namespace osp::bench
