// Tick placement and scales for the report's charts.
#include "report/axis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/escape.h"

namespace osp::report {
namespace {

// The step among 1, 2, 5 x 10^k nearest above raw.
double nice_step(double raw) {
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  const double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return m * p;
}

// A label with just enough decimals for the step, so 0.1 + 0.2 shows as "0.3" and 2000 as "2000".
std::string tick_label(double v, double step) {
  if (std::fabs(v) < step * 1e-9) v = 0;  // -0 and round-off near zero
  const double a = std::fabs(v);
  if (a >= 1e6 || (a != 0 && a < 1e-4)) return format_number(v);
  const int decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

Ticks linear_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  // Keep hi - lo finite (values near ±DBL_MAX would overflow it and every step after).
  lo = std::max(lo, -1e307), hi = std::min(hi, 1e307);
  if (hi - lo <= std::fabs(hi) * 1e-12) {  // a flat series: give it some room
    const double pad = hi == 0 ? 1 : std::fabs(hi) * 0.1;
    lo -= pad, hi += pad;
  }
  const double step = nice_step((hi - lo) / std::max(1, target));
  Ticks t;
  t.lo = std::floor(lo / step) * step;
  t.hi = std::ceil(hi / step) * step;
  const double intervals = std::round((t.hi - t.lo) / step);
  // At most target + 2 intervals by construction; anything else is round-off gone wrong, and a
  // bare two-tick axis is better than a runaway loop.
  if (!(intervals >= 1 && intervals <= 4.0 * std::max(1, target) + 4)) {
    t.lo = lo, t.hi = hi;
    t.values = {lo, hi};
    t.labels = {format_number(lo), format_number(hi)};
    return t;
  }
  const int n = int(intervals);
  for (int i = 0; i <= n; ++i) {
    const double v = t.lo + i * step;
    t.values.push_back(v);
    t.labels.push_back(tick_label(v, step));
  }
  return t;
}

Ticks log_ticks(double lo, double hi) {
  if (!(lo > 0) || !(hi > 0) || !std::isfinite(lo) || !std::isfinite(hi)) lo = 1, hi = 10;
  if (lo > hi) std::swap(lo, hi);
  int e0 = int(std::floor(std::log10(lo) + 1e-9));
  int e1 = int(std::ceil(std::log10(hi) - 1e-9));
  if (e1 <= e0) e1 = e0 + 1;
  const int every = std::max(1, (e1 - e0 + 7) / 8);  // at most ~8 labelled decades
  Ticks t;
  t.lo = std::pow(10.0, e0);
  t.hi = std::pow(10.0, e1);
  for (int e = e0; e <= e1; e += every) {
    t.values.push_back(std::pow(10.0, e));
    t.labels.push_back(e >= -2 && e <= 4
                           ? tick_label(std::pow(10.0, e), std::pow(10.0, std::min(e, 0)))
                           : fmt::format("1e{}", e));
  }
  return t;
}

double Scale::operator()(double v) const {
  double a = lo, b = hi, x = v;
  if (log) {
    a = std::log10(lo), b = std::log10(hi);
    x = v > 0 ? std::log10(v) : a;  // non-positive values sit on the axis floor
  }
  const double f = b > a ? (x - a) / (b - a) : 0.5;
  return pixel_lo + f * (pixel_hi - pixel_lo);
}

}  // namespace osp::report
