// Shared pieces of the SVG charts: the frame with title, grid, ticks and axis labels, and the
// legend layout. Internal to src/report.
#pragma once
#include <string>
#include <vector>

#include "report/axis.h"

namespace osp::report::detail {

struct Plot {
  double left, top, right, bottom;  // the plotting area in pixels
};

struct LegendItem {
  std::string name, color;
  bool dashed = false;
  bool bar = false;  // a filled square instead of a line
};

// Rows needed for the legend at this width (each row 18 px).
int legend_rows(const std::vector<LegendItem>& items, double width);

// The legend, laid out from (x, y) in rows within `width`.
std::string render_legend(const std::vector<LegendItem>& items, double x, double y, double width);

// Opens the <svg> element with a title (aria label as well).
std::string svg_open(int width, int height, const std::string& title);

// Horizontal grid lines and y tick labels; x ticks (when given) with vertical grid lines; axis
// labels. Categories on x are drawn by the bar chart itself.
std::string render_axes(const Plot& p, const Ticks& yt, const Scale& ys, const Ticks* xt,
                        const Scale* xs, const std::string& x_label, const std::string& y_label);

// Formats a pixel coordinate compactly.
std::string px(double v);

}  // namespace osp::report::detail
