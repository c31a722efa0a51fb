// The scale-trend section: when runs of one name (recipe) come at several model widths, their
// final evaluation plotted against the hidden size - full-precision perplexity, token kurtosis,
// and the relative perplexity loss to W4A4KV4 and to 4-bit activations alone - so a reader sees
// whether a recipe's outliers and 4-bit loss grow with width.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>
#include <tuple>

#include "report/charts.h"
#include "report/escape.h"
#include "report/report.h"
#include "report/sections.h"

namespace osp::report::detail {
namespace {

struct ScalePoint {
  double hidden;
  const RunData* run;
};

// model.hidden of a run's config, or NaN.
double hidden_of(const RunData& r) {
  const nlohmann::json* h = r.config ? config_value(*r.config, "model", "hidden") : nullptr;
  return h && h->is_number() ? h->get<double>() : NAN;
}

// Runs with an evaluation, grouped by name in first-seen order; only names with two or more
// distinct widths form a trend.
std::vector<std::pair<std::string, std::vector<ScalePoint>>> trends(const std::vector<RunData>& runs) {
  std::vector<std::pair<std::string, std::vector<ScalePoint>>> groups;
  for (const auto& r : runs) {
    const double h = hidden_of(r);
    if (!r.eval || !std::isfinite(h)) continue;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.first == r.name; });
    if (g == groups.end()) g = groups.insert(groups.end(), {r.name, {}});
    g->second.push_back({h, &r});
  }
  std::erase_if(groups, [](const auto& g) {
    std::set<double> widths;
    for (const auto& p : g.second) widths.insert(p.hidden);
    return widths.size() < 2;
  });
  for (auto& g : groups)
    std::stable_sort(g.second.begin(), g.second.end(),
                     [](const ScalePoint& a, const ScalePoint& b) { return a.hidden < b.hidden; });
  return groups;
}

double relative_loss_pct(double fp, double q) { return fp > 0 && std::isfinite(q) ? (q / fp - 1) * 100 : NAN; }

// One chart of `value(eval)` against the hidden size, a series per name.
template <class Value>
std::string trend_chart(const std::vector<std::pair<std::string, std::vector<ScalePoint>>>& groups,
                        const std::string& title, const std::string& y_label, bool log_y, Value value) {
  LineChart c;
  c.title = title, c.x_label = "hidden size (model.hidden)", c.y_label = y_label, c.log_y = log_y;
  c.height = 260;
  for (size_t i = 0; i < groups.size(); ++i) {
    LineSeries s{groups[i].first, series_color(i), {}, false, true};
    for (const auto& p : groups[i].second) s.points.emplace_back(p.hidden, value(*p.run->eval));
    c.series.push_back(std::move(s));
  }
  return render_line_chart(c);
}

// "steps 720 · seq 128 · AdamW lr 0.005": what else may differ between a trend's points.
std::string setting_of(const RunData& r) {
  if (!r.config) return format_number(NAN);
  const auto number = [&](const char* section, const char* key, const char* sub) -> const nlohmann::json* {
    const nlohmann::json* v = config_value(*r.config, section, key);
    if (v && sub) v = v->is_object() && v->contains(sub) ? &(*v)[sub] : nullptr;
    return v && v->is_number() ? v : nullptr;
  };
  const nlohmann::json* groups = config_value(*r.config, "optim", "groups");
  const bool muon = groups && groups->is_string() && groups->get<std::string>() != "adam";
  std::string out;
  for (const auto& [label, section, key, sub] :
       {std::tuple{"steps", "train", "steps", (const char*)nullptr}, {"seq", "train", "seq", nullptr},
        {"AdamW lr", "optim", "adamw", "lr"}, {"Muon lr", "optim", "muon", "lr"}}) {
    if (std::string_view(label) == "Muon lr" && !muon) continue;
    if (const auto* v = number(section, key, sub))
      out += fmt::format("{}{} {}", out.empty() ? "" : " \xC2\xB7 ", label, v->get<double>());
  }
  return out.empty() ? format_number(NAN) : out;
}

}  // namespace

std::string section_scale(const std::vector<RunData>& runs) {
  const auto groups = trends(runs);
  if (groups.empty()) return "";
  std::vector<double> kurtosis;  // log axis when it spans two decades (OSP's ~0.1 beside Adam's tens)
  for (const auto& g : groups)
    for (const auto& p : g.second) kurtosis.push_back(p.run->eval->kurtosis_token);
  std::string body = note(
      "Runs of the same name at several widths, each at the end of its training, against the hidden size. "
      "Δ: perplexity increase over full precision. Points share whatever else differs between the runs "
      "(steps, learning rate, sequence length): compare like with like.");
  body += trend_chart(groups, "Full-precision perplexity", "FP PPL", false,
                      [](const EvalResults& e) { return e.ppl_fp; });
  body += trend_chart(groups, "Excess kurtosis of the hidden states (token protocol)", "excess kurtosis",
                      wants_log(kurtosis), [](const EvalResults& e) { return e.kurtosis_token; });
  body += trend_chart(groups, "W4A4KV4 (RTN) perplexity increase", "Δ %", false,
                      [](const EvalResults& e) { return relative_loss_pct(e.ppl_fp, e.ppl_rtn); });
  body += trend_chart(groups, "4-bit activations only (W16A4KV16) perplexity increase", "Δ %", false,
                      [](const EvalResults& e) { return relative_loss_pct(e.ppl_fp, e.ppl_a4); });
  std::string t =
      "<table class=\"results\"><thead><tr><th>run</th><th>hidden</th><th>setting</th><th>folder</th><th>FP PPL</th>"
      "<th>ex. kurtosis (token)</th><th>&Delta; W4A4KV4</th><th>&Delta; A4 only</th><th>&Delta; W4 only</th>"
      "</tr></thead><tbody>";
  for (const auto& [name, points] : groups)
    for (const auto& p : points) {
      const EvalResults& e = *p.run->eval;
      t += "<tr>" + cell(name, "name") + cell(fmt::format("{:.0f}", p.hidden)) + cell(setting_of(*p.run), "name") +
           cell(p.run->dir.string(), "name") +
           cell(format_number(e.ppl_fp)) + cell(format_number(e.kurtosis_token)) +
           cell(degradation(e.ppl_fp, e.ppl_rtn)) + cell(degradation(e.ppl_fp, e.ppl_a4)) +
           cell(degradation(e.ppl_fp, e.ppl_w4)) + "</tr>";
    }
  return section("scale", kSectionScale, body + t + "</tbody></table>");
}

}  // namespace osp::report::detail
