// `osp report`: one self-contained HTML page comparing training runs (docs/report.md).
//   osp report runs/adam runs/osp --out report.html --title "Adam vs OSP"
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "cli/commands.h"
#include "report/report.h"
#include "report/run_data.h"

namespace osp::cli {
namespace {

struct ReportCliOptions {
  std::vector<std::string> run_dirs;
  std::vector<std::string> names;  // replaces each run's name, in order (empty: eval.json's or the folder's)
  std::string out = "report.html";
  std::string title = "osp report";
  std::vector<std::string> sections;
};

// The command line as a user could retype it (arguments with spaces or quotes are quoted).
std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\n'\"\\$`*?&;|<>()") == std::string::npos) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

int run_report(const ReportCliOptions& o) {
  if (!o.names.empty() && o.names.size() != o.run_dirs.size()) {
    fmt::print(stderr, "osp: --names has {} name{} for {} run folder{}; give one per folder\n", o.names.size(),
               o.names.size() == 1 ? "" : "s", o.run_dirs.size(), o.run_dirs.size() == 1 ? "" : "s");
    return 2;
  }
  const std::vector<std::string> ids = report::section_ids();
  for (const auto& id : o.sections)
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
      fmt::print(stderr, "osp: --sections: unknown section '{}' (sections: {})\n", id, join(ids, ", "));
      return 2;
    }
  std::vector<report::RunData> runs;
  for (size_t i = 0; i < o.run_dirs.size(); ++i) {
    const auto& dir = o.run_dirs[i];
    auto run = report::read_run(dir);
    if (!run) {
      fmt::print(stderr, "osp: {}\n", run.error().message);
      return 1;
    }
    for (const auto& n : run->notes) fmt::print(stderr, "osp: note: {}\n", n);
    if (!o.names.empty()) run->name = o.names[i];
    runs.push_back(std::move(*run));
  }
  std::string command = "osp report";
  for (const auto& d : o.run_dirs) command += " " + shell_quote(d);
  if (!o.names.empty()) command += " --names " + shell_quote(join(o.names, ","));
  if (!o.sections.empty()) command += " --sections " + shell_quote(join(o.sections, ","));
  command += " --out " + shell_quote(o.out) + " --title " + shell_quote(o.title);
  const auto status =
      report::write_text_file(o.out, report::render_report(runs, {o.title, command, o.sections}));
  if (!status) {
    fmt::print(stderr, "osp: {}\n", status.error().message);
    return 1;
  }
  fmt::print("osp: wrote {} ({} run{})\n", o.out, runs.size(), runs.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace

void register_report(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<ReportCliOptions>();
  CLI::App* cmd = app.add_subcommand("report", "Write an HTML report comparing run folders");
  cmd->add_option("run_dirs", o->run_dirs,
                  "Run folders (config.json, metrics.jsonl, optional eval.json)")
      ->required();
  cmd->add_option("--names", o->names,
                  "Comma-separated run names, one per folder, in order (runs of one name at several "
                  "widths form the scale trend)")
      ->delimiter(',');
  cmd->add_option("--sections", o->sections,
                  "Comma-separated sections to render (default all): loss, outliers, layers, channels, quant, "
                  "scale, text, paper, provenance")
      ->delimiter(',');
  cmd->add_option("--out", o->out, "Output HTML file")->capture_default_str();
  cmd->add_option("--title", o->title, "Page title")->capture_default_str();
  cmd->callback([o, &run] { run = [o] { return run_report(*o); }; });
}

}  // namespace osp::cli
