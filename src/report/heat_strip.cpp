// The heat strip of per-channel max |activation| (one row per run) and its colour map.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/charts.h"
#include "report/escape.h"
#include "report/svg_util.h"

namespace osp::report {

using detail::px;

namespace {

// Median of the finite values (NaN when there are none).
double median(std::vector<double> v) {
  std::erase_if(v, [](double x) { return !std::isfinite(x); });
  if (v.empty()) return NAN;
  const size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + long(m), v.end());
  return v[m];
}

}  // namespace

std::string heat_color(double f) {
  if (!std::isfinite(f)) f = 0;
  f = std::clamp(f, 0.0, 1.0);
  // Piecewise-linear through four stops of a viridis-like map: dark for typical channels, bright
  // yellow for outliers, distinct from both a white and a black page background.
  static constexpr double kStops[4][3] = {
      {49, 54, 149}, {33, 145, 140}, {144, 215, 67}, {253, 231, 37}};
  const double t = f * 3;
  const int i = std::min(2, int(t));
  const double u = t - i;
  int rgb[3];
  for (int k = 0; k < 3; ++k)
    rgb[k] = int(std::lround(kStops[i][k] + u * (kStops[i + 1][k] - kStops[i][k])));
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

std::string render_heat_strip(const std::vector<HeatRow>& rows, int width) {
  constexpr double kLabelW = 150, kRowH = 26, kTop = 30;
  const double strip_w = width - kLabelW - 150;  // room on the right for the peak label
  // The shared colour scale: log ratio to each row's median, from 1x to the largest ratio.
  std::vector<double> medians;
  double max_ratio = 4;  // at least 1x..4x so a flat run does not look like all outliers
  for (const auto& r : rows) {
    medians.push_back(median(r.values));
    for (double v : r.values)
      if (std::isfinite(v) && medians.back() > 0)
        max_ratio = std::max(max_ratio, std::fabs(v) / medians.back());
  }
  const double height = kTop + kRowH * double(rows.size()) + 52;
  std::string out = detail::svg_open(
      width, int(height),
      "Per-channel max |activation|, last hidden state (ratio to the run's median channel)");
  for (size_t r = 0; r < rows.size(); ++r) {
    const double y = kTop + kRowH * double(r);
    const auto& v = rows[r].values;
    out +=
        fmt::format(R"(<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>)",
                    px(kLabelW - 8), px(y + kRowH / 2 - 2), html_escape(rows[r].name));
    if (v.empty() || !(medians[r] > 0)) {
      out += fmt::format(
          R"(<text class="note" x="{}" y="{}" dominant-baseline="middle">no usable values</text>)",
          px(kLabelW), px(y + kRowH / 2 - 2));
      continue;
    }
    const double cell = strip_w / double(v.size());
    size_t argmax = 0;
    double peak = -1;
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::isfinite(v[i]) && std::fabs(v[i]) > peak) peak = std::fabs(v[i]), argmax = i;
      const double ratio = std::isfinite(v[i]) ? std::max(1.0, std::fabs(v[i]) / medians[r]) : 1.0;
      const double f = std::log(ratio) / std::log(max_ratio);
      // Cells overlap by a fraction of a pixel so no background seams show between them.
      out += fmt::format(
          R"(<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>channel {}: {}</title></rect>)",
          px(kLabelW + cell * double(i)), px(y), px(cell + 0.6), px(kRowH - 4), heat_color(f), i,
          html_escape(format_number(v[i])));
    }
    out += fmt::format(
        R"(<text class="tick" x="{}" y="{}" text-anchor="start" dominant-baseline="middle">max ch {} ({}x)</text>)",
        px(kLabelW + strip_w + 8), px(y + kRowH / 2 - 2), argmax,
        html_escape(format_number(peak / medians[r], 3)));
  }
  // Colour legend: a gradient bar labelled 1x and the largest ratio.
  const double ly = kTop + kRowH * double(rows.size()) + 10;
  for (int i = 0; i < 50; ++i)
    out += fmt::format(R"(<rect x="{}" y="{}" width="5" height="10" fill="{}"/>)",
                       px(kLabelW + 5.0 * i), px(ly), heat_color(i / 49.0));
  out +=
      fmt::format(R"(<text class="tick" x="{}" y="{}">1x median</text>)", px(kLabelW), px(ly + 24));
  out += fmt::format(
      R"(<text class="tick" x="{}" y="{}" text-anchor="end">{}x (log colour scale)</text>)",
      px(kLabelW + 250), px(ly + 24), html_escape(format_number(max_ratio, 3)));
  return out + "</svg>";
}

}  // namespace osp::report
