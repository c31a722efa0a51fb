// The line chart (loss curves, kurtosis and max-activation over steps), the series palette and
// decimation of long series.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "report/charts.h"
#include "report/escape.h"
#include "report/svg_util.h"

namespace osp::report {
namespace {

using detail::px;

bool drawable(const std::pair<double, double>& p, bool log_y) {
  return std::isfinite(p.first) && std::isfinite(p.second) && (!log_y || p.second > 0);
}

struct Range {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  bool empty() const { return !(xmin <= xmax); }
};

// The x range of all drawable points, and the y range of those at or after x_from.
Range data_range(const LineChart& c, double x_from) {
  Range r;
  for (const auto& s : c.series)
    for (const auto& p : s.points)
      if (drawable(p, c.log_y)) {
        r.xmin = std::min(r.xmin, p.first), r.xmax = std::max(r.xmax, p.first);
        if (p.first < x_from) continue;
        r.ymin = std::min(r.ymin, p.second), r.ymax = std::max(r.ymax, p.second);
      }
  return r;
}

std::string render_series(const LineSeries& s, const Scale& xs, const Scale& ys, bool log_y) {
  std::string pts, dots;
  for (const auto& p : decimate(s.points, 1500)) {
    if (!drawable(p, log_y)) continue;
    const std::string x = px(xs(p.first)), y = px(ys(p.second));
    pts += x + "," + y + " ";
    if (s.markers)
      dots +=
          fmt::format(R"(<circle cx="{}" cy="{}" r="2.5" fill="{}"/>)", x, y, html_escape(s.color));
  }
  if (pts.empty()) return "";
  return fmt::format(
      R"(<polyline fill="none" stroke="{}" stroke-width="1.8" stroke-linejoin="round"{} points="{}"><title>{}</title></polyline>{})",
      html_escape(s.color), s.dashed ? R"( stroke-dasharray="6 4")" : "", pts, html_escape(s.name),
      dots);
}

}  // namespace

std::string series_color(size_t i) {
  // Mid-tone hues that keep contrast on white and on near-black backgrounds.
  static const char* kPalette[] = {"#4e79a7", "#e15759", "#59a14f", "#f28e2b",
                                   "#b07aa1", "#76b7b2", "#edc948", "#ff9da7"};
  return kPalette[i % std::size(kPalette)];
}

std::vector<std::pair<double, double>> decimate(
    const std::vector<std::pair<double, double>>& points, size_t max_points) {
  if (points.size() <= max_points || max_points < 4) return points;
  // Buckets of consecutive points; each contributes its min and max, in x order. Indices only
  // grow, so no point is emitted twice.
  const size_t buckets = max_points / 2, n = points.size();
  std::vector<std::pair<double, double>> out;
  out.reserve(max_points + 2);
  out.push_back(points[0]);
  size_t last = 0;
  const auto emit = [&](size_t i) {
    if (i > last) out.push_back(points[i]), last = i;
  };
  for (size_t b = 0; b < buckets; ++b) {
    const size_t i0 = b * n / buckets, i1 = (b + 1) * n / buckets;
    size_t lo = i0, hi = i0;
    for (size_t i = i0; i < i1; ++i) {
      if (points[i].second < points[lo].second) lo = i;
      if (points[i].second > points[hi].second) hi = i;
    }
    emit(std::min(lo, hi));
    emit(std::max(lo, hi));
  }
  emit(n - 1);
  return out;
}

std::string render_line_chart(const LineChart& c) {
  std::vector<detail::LegendItem> legend;
  for (const auto& s : c.series) legend.push_back({s.name, s.color, s.dashed, false});
  const double plot_w = c.width - 72 - 20;
  const int rows = detail::legend_rows(legend, plot_w);
  const int height = c.height + rows * 18;
  const detail::Plot p{72, 32, double(c.width) - 20, double(c.height) - 48};

  std::string out = detail::svg_open(c.width, height, c.title);
  Range r = data_range(c, -std::numeric_limits<double>::infinity());
  if (c.skip_x_fraction > 0 && !r.empty()) {
    const Range focus = data_range(c, r.xmin + c.skip_x_fraction * (r.xmax - r.xmin));
    if (focus.ymin <= focus.ymax) r.ymin = focus.ymin, r.ymax = focus.ymax;
  }
  if (r.empty()) {
    out += fmt::format(R"(<rect class="frame" x="{}" y="{}" width="{}" height="{}"/>)", px(p.left),
                       px(p.top), px(p.right - p.left), px(p.bottom - p.top));
    out += fmt::format(R"(<text class="note" x="{}" y="{}" text-anchor="middle">no data</text>)",
                       px((p.left + p.right) / 2), px((p.top + p.bottom) / 2));
    return out + "</svg>";
  }
  const Ticks xt = linear_ticks(r.xmin, r.xmax, 8);
  const Ticks yt = c.log_y ? log_ticks(r.ymin, r.ymax) : linear_ticks(r.ymin, r.ymax, 6);
  const Scale xs{xt.lo, xt.hi, p.left, p.right, false};
  const Scale ys{yt.lo, yt.hi, p.bottom, p.top, c.log_y};
  out += detail::render_axes(p, yt, ys, &xt, &xs, c.x_label,
                             c.y_label + (c.log_y ? " (log scale)" : ""));
  // Lines stay inside the plot area; the clip id is derived from the chart so ids on one page
  // differ without any global counter.
  const std::string clip =
      fmt::format("clip{:x}", std::hash<std::string>{}(c.title + "|" + c.y_label));
  out += fmt::format(
      R"svg(<clipPath id="{}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath><g clip-path="url(#{})">)svg",
      clip, px(p.left), px(p.top - 3), px(p.right - p.left + 3), px(p.bottom - p.top + 6), clip);
  for (const auto& s : c.series) out += render_series(s, xs, ys, c.log_y);
  out += "</g>";
  out += detail::render_legend(legend, p.left, double(c.height) - 6, plot_w);
  return out + "</svg>";
}

}  // namespace osp::report
