// Progress bar (see progress.h).
#include "data/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace osp::data {

ProgressBar::ProgressBar(std::string label, uint64_t total, std::string unit, double unit_scale,
                         bool enabled)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      scale_(unit_scale),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(uint64_t done) {
  done_ = done;
  if (!enabled_ || !tty_) return;
  const double now = timer_.seconds();
  if (last_draw_ >= 0 && now - last_draw_ < 0.2) return;
  last_draw_ = now;
  draw(false);
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_) draw(true);
}

void ProgressBar::draw(bool final_line) {
  constexpr int kWidth = 30;
  const double seconds = timer_.seconds();
  const double fraction =
      total_ > 0 ? std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_)) : 1.0;
  const int filled = static_cast<int>(fraction * kWidth);
  const double rate = seconds > 0 ? static_cast<double>(done_) / scale_ / seconds : 0.0;
  std::string line = fmt::format("{} [{}{}] {:3.0f}% {:.1f}/{:.1f} {} {:.1f} {}/s", label_,
                                 std::string(static_cast<size_t>(filled), '#'),
                                 std::string(static_cast<size_t>(kWidth - filled), '.'),
                                 100.0 * fraction, static_cast<double>(done_) / scale_,
                                 static_cast<double>(total_) / scale_, unit_, rate, unit_);
  if (final_line) {
    line += fmt::format(" in {:.1f}s", seconds);
  } else if (fraction > 0.0) {
    line += fmt::format(" ETA {:.0f}s", seconds * (1.0 - fraction) / fraction);
  }
  if (tty_)
    fmt::print(stderr, "\r\033[K{}{}", line, final_line ? "\n" : "");
  else if (final_line)
    fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);
}

}  // namespace osp::data
