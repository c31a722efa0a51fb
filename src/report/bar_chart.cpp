// The grouped bar chart (per-layer kurtosis, one bar per run in each layer's group).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "report/charts.h"
#include "report/escape.h"
#include "report/svg_util.h"

namespace osp::report {

using detail::px;

std::string render_bar_chart(const BarChart& c) {
  std::vector<detail::LegendItem> legend;
  for (const auto& s : c.series) legend.push_back({s.name, s.color, false, true});
  const double plot_w = c.width - 72 - 20;
  const int rows = detail::legend_rows(legend, plot_w);
  const detail::Plot p{72, 32, double(c.width) - 20, double(c.height) - 48};
  std::string out = detail::svg_open(c.width, c.height + rows * 18, c.title);

  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& s : c.series)
    for (double v : s.values)
      if (std::isfinite(v) && (!c.log_y || v > 0)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (c.categories.empty() || !(lo <= hi)) {
    out += fmt::format(R"(<text class="note" x="{}" y="{}" text-anchor="middle">no data</text>)",
                       px((p.left + p.right) / 2), px((p.top + p.bottom) / 2));
    return out + "</svg>";
  }
  // Linear bars grow from zero; log bars from a decade floor at least 2x below the smallest value,
  // so the smallest bar still has a visible height.
  const Ticks yt =
      c.log_y ? log_ticks(lo / 2, hi) : linear_ticks(std::min(0.0, lo), std::max(0.0, hi), 6);
  const Scale ys{yt.lo, yt.hi, p.bottom, p.top, c.log_y};
  out += detail::render_axes(p, yt, ys, nullptr, nullptr, c.x_label,
                             c.y_label + (c.log_y ? " (log scale)" : ""));

  const size_t n_cat = c.categories.size(), n_ser = std::max<size_t>(1, c.series.size());
  const double group_w = (p.right - p.left) / double(n_cat);
  const double bar_w = group_w * 0.8 / double(n_ser);
  const double base = c.log_y ? p.bottom : ys(0.0);
  // Label every k-th category so labels never overlap (about 28 px per label).
  const size_t every = std::max<size_t>(1, size_t(std::ceil(28.0 / group_w)));
  for (size_t k = 0; k < n_cat; ++k) {
    const double gx = p.left + group_w * double(k);
    if (k % every == 0)
      out += fmt::format(R"(<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>)",
                         px(gx + group_w / 2), px(p.bottom + 16), html_escape(c.categories[k]));
    for (size_t s = 0; s < c.series.size(); ++s) {
      if (k >= c.series[s].values.size()) continue;
      const double v = c.series[s].values[k];
      if (!std::isfinite(v) || (c.log_y && v <= 0)) continue;
      const double y = ys(v), top = std::min(y, base), h = std::max(std::fabs(base - y), 0.5);
      out += fmt::format(
          R"(<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} · {}: {}</title></rect>)",
          px(gx + group_w * 0.1 + bar_w * double(s)), px(top), px(std::max(bar_w - 1, 1.0)), px(h),
          html_escape(c.series[s].color), html_escape(c.series[s].name),
          html_escape(c.categories[k]), html_escape(format_number(v)));
    }
  }
  out += detail::render_legend(legend, p.left, double(c.height) - 6, plot_w);
  return out + "</svg>";
}

}  // namespace osp::report
