// Axis scales and tick placement for the SVG charts: "nice" linear ticks (1, 2, 5 x 10^k steps)
// and decade ticks for log scales.
#pragma once
#include <string>
#include <vector>

namespace osp::report {

struct Ticks {
  double lo = 0, hi = 1;       // the axis range, widened to the outer ticks
  std::vector<double> values;  // tick positions within [lo, hi], increasing
  std::vector<std::string> labels;
};

// Linear ticks covering [lo, hi] with about `target` intervals. A degenerate or non-finite range
// is widened so the axis is still drawable.
Ticks linear_ticks(double lo, double hi, int target = 5);

// Log-scale ticks: whole decades covering [lo, hi] (both > 0), thinned to at most ~8 labels.
// Non-positive input falls back to [1, 10].
Ticks log_ticks(double lo, double hi);

// Maps a data value onto [pixel_lo, pixel_hi] for a linear or log axis.
struct Scale {
  double lo = 0, hi = 1, pixel_lo = 0, pixel_hi = 1;
  bool log = false;
  double operator()(double v) const;
};

}  // namespace osp::report
