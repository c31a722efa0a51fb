// metrics.jsonl writer.
#include "train/metrics_log.h"

#include <fstream>
#include <string>
#include <vector>

#include "core/atomic_file.h"

namespace osp::train {

Result<MetricsLog> MetricsLog::open(const std::filesystem::path& path, int64_t keep_through_step) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path);
    std::string line, kept;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("step", int64_t(0)) <= keep_through_step) kept += line + "\n";
    }
    OSP_TRY(write_file_atomically(path, std::as_bytes(std::span<const char>(kept.data(), kept.size()))));
  }
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return make_error("{}: cannot open for appending", path.string());
  return MetricsLog(f);
}

MetricsLog::~MetricsLog() {
  if (f_ != nullptr) std::fclose(f_);
}

void MetricsLog::write(const nlohmann::json& record) {
  const std::string s = record.dump() + "\n";
  std::fwrite(s.data(), 1, s.size(), f_);
  std::fflush(f_);
}

}  // namespace osp::train
