// Report pieces that work on text and numbers: escaping, number formatting, ticks, scales and the
// SVG primitives.
#include <gtest/gtest.h>

#include <cmath>

#include "report/axis.h"
#include "report/charts.h"
#include "report/escape.h"

namespace osp::report {
namespace {

TEST(ReportEscape, EscapesMarkupCharacters) {
  EXPECT_EQ(html_escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  EXPECT_EQ(html_escape(""), "");
}

TEST(ReportEscape, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(html_escape("Muon\xE2\x80\xA0 \xCE\x94"), "Muon\xE2\x80\xA0 \xCE\x94");
  EXPECT_EQ(html_escape("a\xFF"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(html_escape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(html_escape("\xE2\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
  EXPECT_EQ(html_escape(std::string("x\0y", 3)), "x\xEF\xBF\xBDy");
  EXPECT_EQ(html_escape("a\tb\nc"), "a\tb\nc");
}

TEST(ReportFormatNumber, CompactForms) {
  EXPECT_EQ(format_number(NAN), "\xE2\x80\x94");
  EXPECT_EQ(format_number(80000), "8e4");
  EXPECT_EQ(format_number(123456), "1.2e5");
  EXPECT_EQ(format_number(14475.51), "1.4e4");
  EXPECT_EQ(format_number(1818.56), "1818.6");
  EXPECT_EQ(format_number(13.456), "13.46");
  EXPECT_EQ(format_number(0.04), "0.04");
  EXPECT_EQ(format_number(0.0001), "1e-4");
  EXPECT_EQ(format_number(0), "0");
}

TEST(ReportTicks, LinearTicksAreNiceAndCoverTheRange) {
  const Ticks t = linear_ticks(0.13, 9.7, 5);
  EXPECT_LE(t.lo, 0.13);
  EXPECT_GE(t.hi, 9.7);
  ASSERT_GE(t.values.size(), 4u);
  ASSERT_LE(t.values.size(), 12u);
  EXPECT_EQ(t.labels.front(), "0");
  EXPECT_EQ(t.labels.back(), "10");
  const double step = t.values[1] - t.values[0];
  EXPECT_DOUBLE_EQ(step, 2.0);
  for (size_t i = 1; i < t.values.size(); ++i)
    EXPECT_NEAR(t.values[i] - t.values[i - 1], step, 1e-12);
}

TEST(ReportTicks, DecimalLabelsHaveNoRoundOffNoise) {
  const Ticks t = linear_ticks(0.0, 0.7, 7);
  ASSERT_EQ(t.labels.size(), 8u);
  EXPECT_EQ(t.labels[3], "0.3");
  const Ticks big = linear_ticks(0, 20000, 4);
  EXPECT_EQ(big.labels[1], "5000");
}

TEST(ReportTicks, DegenerateRangesStayDrawable) {
  const Ticks flat = linear_ticks(3, 3);
  EXPECT_LT(flat.lo, 3);
  EXPECT_GT(flat.hi, 3);
  EXPECT_GE(flat.values.size(), 2u);
  const Ticks bad = linear_ticks(NAN, INFINITY);
  EXPECT_GE(bad.values.size(), 2u);
  const Ticks huge = linear_ticks(-1.7e308, 1.7e308);
  EXPECT_GE(huge.values.size(), 2u);
  EXPECT_LE(huge.values.size(), 30u);
  for (double v : huge.values) EXPECT_TRUE(std::isfinite(v));
  const Ticks tiny = linear_ticks(1.0, 1.0 + 1e-15);
  EXPECT_GE(tiny.values.size(), 2u);
  EXPECT_LE(tiny.values.size(), 30u);
  const Ticks neg = linear_ticks(-5, -1);
  EXPECT_LE(neg.lo, -5);
  EXPECT_GE(neg.hi, -1);
}

TEST(ReportTicks, LogTicksAreDecades) {
  const Ticks t = log_ticks(0.04, 1818.56);
  EXPECT_DOUBLE_EQ(t.lo, 0.01);
  EXPECT_DOUBLE_EQ(t.hi, 10000);
  ASSERT_EQ(t.values.size(), 7u);
  EXPECT_EQ(t.labels.front(), "0.01");
  EXPECT_EQ(t.labels[2], "1");
  EXPECT_EQ(t.labels.back(), "10000");
  const Ticks wide = log_ticks(1e-8, 1e12);
  EXPECT_LE(wide.values.size(), 11u);
  EXPECT_EQ(log_ticks(-1, 0).values.size(), 2u);  // falls back to [1, 10]
}

TEST(ReportScale, MapsLinearAndLog) {
  const Scale lin{0, 10, 100, 200, false};
  EXPECT_DOUBLE_EQ(lin(5), 150);
  const Scale lg{1, 1000, 300, 0, true};  // y axes run upwards
  EXPECT_NEAR(lg(10), 200, 1e-9);
  EXPECT_NEAR(lg(0), 300, 1e-9);  // non-positive sits on the floor
}

TEST(ReportCharts, LineChartEscapesNamesAndDrawsEverySeries) {
  LineChart c;
  c.title = "t<1>";
  c.series.push_back({"a&b", "#123456", {{0, 3}, {1, 2}, {2, NAN}, {3, 1}}, false, false});
  c.series.push_back({"val", "#654321", {{0, 3.5}, {3, 1.5}}, true, true});
  const std::string svg = render_line_chart(c);
  EXPECT_NE(svg.find("t&lt;1&gt;"), std::string::npos);
  EXPECT_NE(svg.find("a&amp;b"), std::string::npos);
  EXPECT_EQ(svg.find("a&b"), std::string::npos);
  EXPECT_EQ(svg.find("nan,"), std::string::npos);  // the NaN point is skipped, not printed
  EXPECT_EQ(svg.find(",nan"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  EXPECT_NE(svg.find("<circle"), std::string::npos);
  size_t polylines = 0;
  for (size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1))
    ++polylines;
  EXPECT_EQ(polylines, 2u);
}

TEST(ReportCharts, SkippedStartDoesNotSetTheYRange) {
  LineChart c;
  c.series.push_back(
      {"loss", "#123456", {{0, 10.8}, {10, 4}, {50, 3.2}, {100, 3.0}}, false, false});
  EXPECT_NE(render_line_chart(c).find(">10<"), std::string::npos);  // a tick at 10
  c.skip_x_fraction = 0.1;
  const std::string svg = render_line_chart(c);
  EXPECT_EQ(svg.find(">10<"), std::string::npos);
  EXPECT_NE(svg.find("clip-path=\"url(#clip"), std::string::npos);
}

TEST(ReportCharts, EmptyChartsSayNoData) {
  EXPECT_NE(render_line_chart(LineChart{}).find("no data"), std::string::npos);
  LineChart log_only_negative;
  log_only_negative.log_y = true;
  log_only_negative.series.push_back({"s", "#000000", {{0, -1}, {1, 0}}, false, false});
  EXPECT_NE(render_line_chart(log_only_negative).find("no data"), std::string::npos);
  EXPECT_NE(render_bar_chart(BarChart{}).find("no data"), std::string::npos);
}

TEST(ReportCharts, BarChartDrawsOneBarPerFiniteValue) {
  BarChart c;
  c.categories = {"0", "1", "2"};
  c.series.push_back({"adam", "#111111", {1, 2, NAN}});
  c.series.push_back({"osp", "#222222", {0.1, 0.2, 0.3}});
  const std::string svg = render_bar_chart(c);
  size_t bars = 0;
  for (size_t p = svg.find("<rect x"); p != std::string::npos; p = svg.find("<rect x", p + 1))
    ++bars;
  EXPECT_EQ(bars, 5u + 2u);  // five bars, two legend squares
}

TEST(ReportCharts, HeatStripMarksTheOutlierChannel) {
  std::vector<double> v(64, 1.0);
  v[17] = 40;
  v[0] = NAN;  // a gap must not become the peak
  const std::string svg = render_heat_strip({{"adam", v}, {"empty", {}}});
  EXPECT_NE(svg.find("max ch 17 (40x)"), std::string::npos);
  EXPECT_NE(svg.find("no usable values"), std::string::npos);
  EXPECT_NE(svg.find(heat_color(1.0)), std::string::npos);
  EXPECT_EQ(heat_color(0), "#313695");
  EXPECT_EQ(heat_color(NAN), heat_color(0));
}

TEST(ReportCharts, DecimateKeepsEndsAndExtremes) {
  std::vector<std::pair<double, double>> pts;
  for (int i = 0; i < 10000; ++i) pts.emplace_back(i, i == 5001 ? 100.0 : std::sin(i * 0.01));
  const auto d = decimate(pts, 200);
  EXPECT_LE(d.size(), 202u);
  EXPECT_EQ(d.front(), pts.front());
  EXPECT_EQ(d.back(), pts.back());
  bool spike = false;
  for (const auto& p : d) spike |= p.second == 100.0;
  EXPECT_TRUE(spike);
  for (size_t i = 1; i < d.size(); ++i) EXPECT_LT(d[i - 1].first, d[i].first);
}

}  // namespace
}  // namespace osp::report
