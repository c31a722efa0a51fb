// The chart sections of the report: loss curves, outlier statistics over training, per-layer
// kurtosis and the last layer's channel heat strip.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "report/charts.h"
#include "report/escape.h"
#include "report/report.h"
#include "report/sections.h"

namespace osp::report::detail {
// Log scale when the positive values span two decades or more (kurtosis ranges from ~0.04 under
// OSP to ~1800 under Adam in the paper; a linear axis would flatten one of them to zero).
bool wants_log(const std::vector<double>& values) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (double v : values)
    if (std::isfinite(v) && v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
  return hi > 0 && hi / lo >= 100;
}

namespace {

std::vector<double> y_values(const std::vector<LineSeries>& series) {
  std::vector<double> out;
  for (const auto& s : series)
    for (const auto& p : s.points) out.push_back(p.second);
  return out;
}

// One line chart of a metrics curve per run; `key` names the metric in the note when no run has it.
std::string curve_chart(const std::vector<RunData>& runs, Curve TrainingMetrics::*curve,
                        const std::string& title, const std::string& y_label, const char* key) {
  LineChart c;
  c.title = title, c.x_label = "step", c.y_label = y_label;
  for (size_t i = 0; i < runs.size(); ++i)
    if (!(runs[i].metrics.*curve).empty())
      c.series.push_back({runs[i].name, series_color(i), runs[i].metrics.*curve, false, false});
  if (c.series.empty())
    return note(fmt::format(
        "No metrics.jsonl has \"{}\" records (the trainer logs them every N steps when the "
        "outlier watch is on), so nothing is drawn.",
        key));
  c.log_y = wants_log(y_values(c.series));
  return render_line_chart(c);
}

}  // namespace

std::string section_loss(const std::vector<RunData>& runs) {
  LineChart c;
  c.title =
      "Training loss (solid) and validation loss (dashed); y axis fitted to the last 90% of steps";
  c.x_label = "step", c.y_label = "loss (nats/token)";
  c.skip_x_fraction = 0.1;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& m = runs[i].metrics;
    if (!m.loss.empty())
      c.series.push_back({runs[i].name + " train", series_color(i), m.loss, false, false});
    if (!m.val_loss.empty())
      c.series.push_back({runs[i].name + " val", series_color(i), m.val_loss, true, true});
  }
  std::string body =
      c.series.empty() ? note("No run has loss records in metrics.jsonl.") : render_line_chart(c);
  return section("loss", kSectionLoss, body);
}

std::string section_outliers(const std::vector<RunData>& runs) {
  std::string body = note(
      "Excess kurtosis and max |activation| / RMS of the hidden states, as logged during training. "
      "A Gaussian-like residual stream stays near 0 kurtosis; outlier channels push both up.");
  body += curve_chart(runs, &TrainingMetrics::kurtosis, "Excess kurtosis over training",
                      "excess kurtosis", "kurtosis");
  body += curve_chart(runs, &TrainingMetrics::max_act_ratio, "Max |activation| / RMS over training",
                      "max |act| / RMS", "max_act_ratio");
  return section("outliers", kSectionOutliers, body);
}

std::string section_layers(const std::vector<RunData>& runs) {
  BarChart c;
  c.title = "Excess kurtosis per hidden state";
  c.x_label = "hidden state (0 = embedding output, L = final norm)", c.y_label = "excess kurtosis";
  size_t states = 0;
  std::vector<double> all;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].eval || runs[i].eval->per_state_kurtosis.empty()) continue;
    const auto& k = runs[i].eval->per_state_kurtosis;
    states = std::max(states, k.size());
    all.insert(all.end(), k.begin(), k.end());
    c.series.push_back({runs[i].name, series_color(i), k});
  }
  if (c.series.empty())
    return section("layers", kSectionLayers,
                   note("No eval.json has \"per_state_kurtosis\"; nothing is drawn."));
  for (size_t s = 0; s < states; ++s) c.categories.push_back(fmt::format("{}", s));
  c.log_y = wants_log(all);
  return section("layers", kSectionLayers, render_bar_chart(c));
}

std::string section_channels(const std::vector<RunData>& runs) {
  std::vector<HeatRow> rows;
  for (const auto& r : runs)
    if (r.eval && !r.eval->last_state_channel_max.empty())
      rows.push_back({r.name, r.eval->last_state_channel_max});
  if (rows.empty())
    return section("channels", kSectionChannels,
                   note("No eval.json has \"last_state_channel_max\"; nothing is drawn."));
  std::string body = note(
      "Each cell is one channel of the last hidden state; colour is its max |activation| over the "
      "evaluation tokens divided by the run's median channel, on a log scale shared by all rows. "
      "Bright cells are outlier channels.");
  return section("channels", kSectionChannels, body + render_heat_strip(rows));
}

}  // namespace osp::report::detail
