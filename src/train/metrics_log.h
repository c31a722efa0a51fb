// metrics.jsonl: one JSON object per line, appended and flushed as training goes. On resume the
// lines past the checkpoint's step are dropped first, so the file always describes one history.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

#include "core/result.h"

namespace osp::train {

class MetricsLog {
 public:
  // Opens path for appending, first removing lines whose "step" exceeds keep_through_step.
  static Result<MetricsLog> open(const std::filesystem::path& path, int64_t keep_through_step);
  MetricsLog(MetricsLog&& o) noexcept : f_(o.f_) { o.f_ = nullptr; }
  MetricsLog(const MetricsLog&) = delete;
  ~MetricsLog();
  void write(const nlohmann::json& record);

 private:
  explicit MetricsLog(std::FILE* f) : f_(f) {}
  std::FILE* f_;
};

}  // namespace osp::train
