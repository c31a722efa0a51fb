// Inline SVG charts for the report: a line chart (axes, ticks, legend, optional log y), a grouped
// bar chart and a heat strip. Each returns one <svg> element as text; every string is escaped.
// Colours of axes and text come from CSS variables of the page (--fg, --muted, --grid), so the
// charts follow the page's light or dark theme; series colours are mid-tones readable on both.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace osp::report {

// The colour of series i (a fixed palette, cycled).
std::string series_color(size_t i);

struct LineSeries {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;  // (x, y); non-finite points are skipped
  bool dashed = false;
  bool markers = false;  // small dots at each point (sparse series such as validation loss)
};

struct LineChart {
  std::string title;
  std::string x_label, y_label;
  bool log_y = false;
  // The y range ignores points in the first `skip_x_fraction` of the x range (lines run off the
  // top, clipped): a loss curve's first steps (ln V ~ 10) would otherwise squash the end of
  // training, where runs differ by a few hundredths, into a flat line.
  double skip_x_fraction = 0;
  int width = 900, height = 340;
  std::vector<LineSeries> series;
};

// Draws the chart; an empty chart (no drawable point) draws the frame with a "no data" note.
std::string render_line_chart(const LineChart& chart);

struct BarSeries {
  std::string name;
  std::string color;
  std::vector<double> values;  // one per category; NaN = no bar
};

struct BarChart {
  std::string title;
  std::string x_label, y_label;
  std::vector<std::string> categories;
  bool log_y = false;
  int width = 900, height = 320;
  std::vector<BarSeries> series;
};

std::string render_bar_chart(const BarChart& chart);

// One row of the heat strip: a run's per-channel values.
struct HeatRow {
  std::string name;
  std::vector<double> values;
};

// Per-channel magnitudes as colour, one row per run. Each value is shown as its ratio to the
// row's median (outlier channels stand out whatever the run's overall scale) on one log colour
// scale shared by all rows, from 1x to the largest ratio; a legend gives the scale.
std::string render_heat_strip(const std::vector<HeatRow>& rows, int width = 900);

// The heat colour for a fraction f in [0, 1] (dark blue -> teal -> yellow), as "#rrggbb".
std::string heat_color(double f);

// Decimates a series to at most max_points points (keeps the first and last), so a long run does
// not bloat the page; the shape survives because per-bucket minima and maxima are kept.
std::vector<std::pair<double, double>> decimate(
    const std::vector<std::pair<double, double>>& points, size_t max_points);

}  // namespace osp::report
