// Frame, axes and legend of the report's SVG charts.
#include "report/svg_util.h"

#include <fmt/format.h>

#include <cmath>

#include "report/escape.h"

namespace osp::report::detail {
namespace {

constexpr double kLegendRow = 18;

// An estimate of the rendered width of a legend entry: the 24 px swatch, a gap, the label (12 px
// sans-serif averages under 7.5 px a glyph) and 18 px before the next entry.
double item_width(const LegendItem& item) { return 46 + 7.5 * double(item.name.size()); }

}  // namespace

std::string px(double v) { return fmt::format("{:.1f}", v); }

int legend_rows(const std::vector<LegendItem>& items, double width) {
  if (items.empty()) return 0;
  int rows = 1;
  double x = 0;
  for (const auto& item : items) {
    const double w = item_width(item);
    if (x > 0 && x + w > width) ++rows, x = 0;
    x += w;
  }
  return rows;
}

std::string render_legend(const std::vector<LegendItem>& items, double x0, double y0,
                          double width) {
  std::string out = "<g class=\"legend\">";
  double x = 0, y = y0;
  for (const auto& item : items) {
    const double w = item_width(item);
    if (x > 0 && x + w > width) x = 0, y += kLegendRow;
    const double cx = x0 + x, cy = y + 9;
    const std::string color = html_escape(item.color);
    if (item.bar) {
      out += fmt::format(R"(<rect x="{}" y="{}" width="12" height="12" fill="{}"/>)", px(cx + 4),
                         px(cy - 6), color);
    } else {
      out += fmt::format(
          R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2.5"{}/>)", px(cx),
          px(cy), px(cx + 24), px(cy), color, item.dashed ? R"( stroke-dasharray="5 3")" : "");
    }
    out += fmt::format(R"(<text x="{}" y="{}" dominant-baseline="middle">{}</text>)", px(cx + 28),
                       px(cy), html_escape(item.name));
    x += w;
  }
  return out + "</g>";
}

std::string svg_open(int width, int height, const std::string& title) {
  const std::string t = html_escape(title);
  return fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {0} {1}" )"
      R"(width="{0}" height="{1}" role="img" aria-label="{2}">)"
      R"(<text class="chart-title" x="{3}" y="18" text-anchor="middle">{2}</text>)",
      width, height, t, width / 2);
}

std::string render_axes(const Plot& p, const Ticks& yt, const Scale& ys, const Ticks* xt,
                        const Scale* xs, const std::string& x_label, const std::string& y_label) {
  std::string out = "<g class=\"axes\">";
  for (size_t i = 0; i < yt.values.size(); ++i) {
    const double y = ys(yt.values[i]);
    out += fmt::format(R"(<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}"/>)", px(p.left), px(y),
                       px(p.right), px(y));
    out += fmt::format(
        R"(<text class="tick" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>)",
        px(p.left - 6), px(y), html_escape(yt.labels[i]));
  }
  if (xt != nullptr && xs != nullptr) {
    for (size_t i = 0; i < xt->values.size(); ++i) {
      const double x = (*xs)(xt->values[i]);
      out += fmt::format(R"(<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}"/>)", px(x),
                         px(p.top), px(x), px(p.bottom));
      out += fmt::format(R"(<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>)",
                         px(x), px(p.bottom + 16), html_escape(xt->labels[i]));
    }
  }
  out += fmt::format(R"(<line class="axis" x1="{0}" y1="{1}" x2="{0}" y2="{2}"/>)", px(p.left),
                     px(p.top), px(p.bottom));
  out += fmt::format(R"(<line class="axis" x1="{0}" y1="{2}" x2="{1}" y2="{2}"/>)", px(p.left),
                     px(p.right), px(p.bottom));
  if (!x_label.empty())
    out += fmt::format(R"(<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>)",
                       px((p.left + p.right) / 2), px(p.bottom + 34), html_escape(x_label));
  if (!y_label.empty())
    out += fmt::format(
        R"svg(<text class="axis-label" transform="translate(14 {}) rotate(-90)" text-anchor="middle">{}</text>)svg",
        px((p.top + p.bottom) / 2), html_escape(y_label));
  return out + "</g>";
}

}  // namespace osp::report::detail
