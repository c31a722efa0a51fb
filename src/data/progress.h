// A progress bar on stderr for long data jobs: "label [#####.....] 45% 12.3/27.0 MB 8.1 MB/s
// ETA 2s", redrawn in place at most five times a second when stderr is a terminal; elsewhere
// (logs, CI) only the final line is printed.
#pragma once
#include <cstdint>
#include <string>

#include "core/timer.h"

namespace osp::data {

class ProgressBar {
 public:
  // unit_scale divides the counts for display (1e6 with unit "MB" for bytes).
  ProgressBar(std::string label, uint64_t total, std::string unit, double unit_scale = 1.0,
              bool enabled = true);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(uint64_t done);
  void set_total(uint64_t total) { total_ = total; }
  // Prints the final line (once).
  void finish();

 private:
  void draw(bool final_line);

  std::string label_, unit_;
  uint64_t total_, done_ = 0;
  double scale_;
  bool enabled_, tty_, finished_ = false;
  Timer timer_;
  double last_draw_ = -1.0;
};

}  // namespace osp::data
