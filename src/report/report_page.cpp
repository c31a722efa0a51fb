// Assembly of the report page: the document skeleton and its light/dark stylesheet, the notes
// about unreadable inputs, and the sections in order.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "core/version.h"
#include "report/escape.h"
#include "report/report.h"
#include "report/sections.h"

namespace osp::report {
namespace {

// The page's colours live in CSS variables; the SVG charts use them too, so one media query
// switches the whole page (text, axes, grid, tables) between light and dark.
constexpr const char* kStyle = R"css(
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d1f24; --muted: #5f6470; --grid: #e4e6eb;
        --axis: #3b3f48; --card: #f5f6f8; --border: #d5d8de; --warn: #9a5b00; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #15171c; --fg: #e5e7eb; --muted: #a2a8b4; --grid: #2c3038; --axis: #b9bec9; --card: #1e2128;
          --border: #393e48; --warn: #f0b45a; }
}
body { background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
       margin: 0; }
main { max-width: 960px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 32px 0 8px; border-bottom: 1px solid var(--border); padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 16px 0 4px; }
.muted, .note { color: var(--muted); }
p.note { margin: 4px 0 10px; }
ul.notes li { color: var(--warn); }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0 16px; }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; }
svg text.chart-title { font-weight: 600; font-size: 13px; }
svg text.tick, svg text.note { fill: var(--muted); }
svg .grid { stroke: var(--grid); stroke-width: 1; }
svg .axis { stroke: var(--axis); stroke-width: 1; }
svg .frame { fill: none; stroke: var(--grid); }
table.results { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0 16px; }
table.results th, table.results td { border: 1px solid var(--border); padding: 4px 6px; }
table.results th { background: var(--card); text-align: center; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { max-width: 30em; font-family: Georgia, serif; }
table.paper { opacity: 0.85; }
pre, code { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
pre { background: var(--card); border: 1px solid var(--border); padding: 8px; overflow-x: auto; white-space: pre-wrap; }
details summary { cursor: pointer; color: var(--muted); }
div.run { margin-bottom: 12px; }
)css";

std::string notes_section(const std::vector<RunData>& runs) {
  std::string items;
  for (const auto& r : runs)
    for (const auto& n : r.notes) items += "<li>" + html_escape(n) + "</li>";
  if (items.empty()) return "";
  return detail::section(
      "notes", kSectionNotes,
      detail::note("Some inputs were missing or malformed; the report shows what could be read.") +
          "<ul class=\"notes\">" + items + "</ul>");
}

// The sections in page order, by the id ReportOptions::sections names them with.
using Render = std::string (*)(const std::vector<RunData>&, const ReportOptions&);
template <std::string (*Section)(const std::vector<RunData>&)>
std::string of_runs(const std::vector<RunData>& runs, const ReportOptions&) {
  return Section(runs);
}
constexpr std::pair<const char*, Render> kSections[] = {
    {"loss", of_runs<detail::section_loss>},
    {"outliers", of_runs<detail::section_outliers>},
    {"layers", of_runs<detail::section_layers>},
    {"channels", of_runs<detail::section_channels>},
    {"quant", of_runs<detail::section_quant>},
    {"scale", of_runs<detail::section_scale>},
    {"text", of_runs<detail::section_text>},
    {"paper", [](const std::vector<RunData>&, const ReportOptions&) { return detail::section_paper(); }},
    {"provenance", [](const std::vector<RunData>& runs, const ReportOptions& o) {
       return detail::section_provenance(runs, o.command);
     }},
};

}  // namespace

std::vector<std::string> section_ids() {
  std::vector<std::string> ids;
  for (const auto& s : kSections) ids.emplace_back(s.first);
  return ids;
}

namespace detail {

std::string section(const char* id, const std::string& title, const std::string& body) {
  return fmt::format("<section id=\"{}\"><h2>{}</h2>{}</section>\n", id, html_escape(title), body);
}

std::string note(const std::string& text) {
  return "<p class=\"note\">" + html_escape(text) + "</p>";
}

}  // namespace detail

std::string render_report(const std::vector<RunData>& runs, const ReportOptions& options) {
  std::string names;
  for (const auto& r : runs) names += (names.empty() ? "" : ", ") + r.name;
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"color-scheme\" content=\"light dark\"><title>" +
      html_escape(options.title) + "</title><style>" + kStyle + "</style></head><body><main>\n";
  html += "<h1>" + html_escape(options.title) + "</h1>";
  html += "<p class=\"muted\">" +
          html_escape(fmt::format("{} run{}: {}. Generated by osp {}.", runs.size(),
                                  runs.size() == 1 ? "" : "s", runs.empty() ? "none" : names,
                                  OSP_VERSION)) +
          "</p>\n";
  html += notes_section(runs);
  for (const auto& [id, render] : kSections)
    if (options.sections.empty() ||
        std::find(options.sections.begin(), options.sections.end(), id) != options.sections.end())
      html += render(runs, options);
  return html + "</main></body></html>\n";
}

Status write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error("{}: cannot open for writing", path.string());
  out.write(text.data(), std::streamsize(text.size()));
  out.close();
  if (!out) return make_error("{}: write failed", path.string());
  return {};
}

}  // namespace osp::report
