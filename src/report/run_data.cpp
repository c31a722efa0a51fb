// Run-folder reading for the report (config.json, metrics.jsonl, eval.json).
#include "report/run_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace osp::report {
namespace {

namespace fs = std::filesystem;

// Inputs larger than this are not a run folder's JSON; refusing them keeps a stray file from
// exhausting memory.
constexpr uintmax_t kMaxFileBytes = uintmax_t(1) << 30;

enum class ReadState { kOk, kMissing, kFailed };

// Reads a whole file into `out`; on kFailed, `problem` says why.
ReadState read_text(const fs::path& path, std::string& out, std::string& problem) {
  const auto fail = [&problem](std::string why) {
    problem = std::move(why);
    return ReadState::kFailed;
  };
  std::error_code ec;
  if (!fs::exists(path, ec)) return ReadState::kMissing;
  if (!fs::is_regular_file(path, ec)) return fail("not a regular file");
  const auto size = fs::file_size(path, ec);
  if (ec) return fail("cannot read its size");
  if (size > kMaxFileBytes) return fail(fmt::format("too large ({} bytes)", size));
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail("read failed");
  out = ss.str();
  return ReadState::kOk;
}

// A finite number at key, or nothing (absent, null — a NaN the writer could not encode — or not a
// number).
std::optional<double> finite_number(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

// Reads an optional number of eval.json; a present value of the wrong type gets a note.
void eval_number(const nlohmann::json& j, const char* key, double& out, const std::string& file,
                 std::vector<std::string>& notes) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_number()) {
    notes.push_back(fmt::format("{}: \"{}\" is not a number (ignored)", file, key));
    return;
  }
  out = it->get<double>();
}

void eval_array(const nlohmann::json& j, const char* key, std::vector<double>& out,
                const std::string& file, std::vector<std::string>& notes) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_array()) {
    notes.push_back(fmt::format("{}: \"{}\" is not an array (ignored)", file, key));
    return;
  }
  size_t bad = 0;
  for (const auto& v : *it) {
    if (v.is_number())
      out.push_back(v.get<double>());
    else
      out.push_back(NAN), ++bad;
  }
  if (bad)
    notes.push_back(
        fmt::format("{}: \"{}\" has {} non-numeric entries (shown as gaps)", file, key, bad));
}

void eval_string(const nlohmann::json& j, const char* key, std::string& out,
                 const std::string& file, std::vector<std::string>& notes) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_string()) {
    notes.push_back(fmt::format("{}: \"{}\" is not a string (ignored)", file, key));
    return;
  }
  out = it->get<std::string>();
}

}  // namespace

TrainingMetrics parse_metrics(std::string_view text, const std::string& file,
                              std::vector<std::string>& notes) {
  TrainingMetrics m;
  size_t line_no = 0, bad = 0, first_bad = 0, wrong_type = 0, wrong_line = 0;
  const char* wrong_key = "";
  std::string first_problem;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos)
      continue;  // blank lines are harmless
    const auto j = nlohmann::json::parse(line, nullptr, false);
    std::string problem;
    if (j.is_discarded())
      problem = "not valid JSON";
    else if (!j.is_object())
      problem = "not a JSON object";
    const auto step = problem.empty() ? finite_number(j, "step") : std::nullopt;
    if (problem.empty() && !step) problem = "no numeric \"step\"";
    if (!problem.empty()) {
      if (bad++ == 0) first_bad = line_no, first_problem = problem;
      continue;
    }
    const auto add = [&](const char* key, Curve& c) {
      if (const auto v = finite_number(j, key))
        c.emplace_back(*step, *v);
      else if (const auto it = j.find(key);
               it != j.end() && !it->is_number() && !it->is_null() && wrong_type++ == 0)
        wrong_key = key, wrong_line = line_no;
    };
    add("loss", m.loss);
    add("val_loss", m.val_loss);
    add("kurtosis", m.kurtosis);
    add("max_act_ratio", m.max_act_ratio);
  }
  // By step, so lines from a log that was appended out of order do not zigzag back.
  for (Curve* c : {&m.loss, &m.val_loss, &m.kurtosis, &m.max_act_ratio})
    std::stable_sort(c->begin(), c->end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  // A value of another type (say a per-layer array) is not drawn; say so rather than drop it
  // silently.
  if (wrong_type)
    notes.push_back(fmt::format("{}: line {}: \"{}\" is not a number ({} such value{} ignored)",
                                file, wrong_line, wrong_key, wrong_type,
                                wrong_type == 1 ? "" : "s"));
  if (bad)
    notes.push_back(fmt::format("{}: line {}: {} ({} malformed line{} skipped)", file, first_bad,
                                first_problem, bad, bad == 1 ? "" : "s"));
  return m;
}

std::optional<EvalResults> parse_eval(std::string_view text, const std::string& file,
                                      std::vector<std::string>& notes) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    notes.push_back(fmt::format("{}: {} (ignored)", file,
                                j.is_discarded() ? "not valid JSON" : "not a JSON object"));
    return std::nullopt;
  }
  EvalResults e;
  eval_string(j, "name", e.name, file, notes);
  eval_string(j, "command", e.command, file, notes);
  eval_number(j, "ppl_fp", e.ppl_fp, file, notes);
  eval_number(j, "ppl_w4a4kv4_rtn", e.ppl_rtn, file, notes);
  eval_number(j, "ppl_w4a4kv4_ffn_had", e.ppl_had, file, notes);
  eval_number(j, "ppl_w4a16kv16", e.ppl_w4, file, notes);
  eval_number(j, "ppl_w16a4kv16", e.ppl_a4, file, notes);
  eval_number(j, "ppl_w16a16kv4", e.ppl_kv4, file, notes);
  eval_number(j, "kurtosis_token", e.kurtosis_token, file, notes);
  eval_number(j, "kurtosis_sequence", e.kurtosis_sequence, file, notes);
  eval_number(j, "max_act_ratio", e.max_act_ratio, file, notes);
  double channel = -1;
  eval_number(j, "max_act_channel", channel, file, notes);
  if (channel >= 0 && channel < 1e12) e.max_act_channel = int64_t(channel);
  eval_array(j, "per_state_kurtosis", e.per_state_kurtosis, file, notes);
  eval_array(j, "last_state_channel_max", e.last_state_channel_max, file, notes);
  if (const auto c = j.find("costliest_sites"); c != j.end() && c->is_array()) {
    for (const auto& site : *c)
      if (site.is_object() && site.contains("name") && site["name"].is_string() && site.contains("cost") &&
          site["cost"].is_number())
        e.costliest_sites.emplace_back(site["name"].get<std::string>(), site["cost"].get<double>());
      else
        notes.push_back(fmt::format("{}: a \"costliest_sites\" entry is not {{name, cost}} (ignored)", file));
  }
  if (const auto c = j.find("continuation"); c != j.end() && c->is_object()) {
    eval_string(*c, "prompt", e.prompt, file, notes);
    eval_string(*c, "fp", e.continuation_fp, file, notes);
    eval_string(*c, "w4a4kv4", e.continuation_w4a4kv4, file, notes);
  }
  return e;
}

Result<RunData> read_run(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return make_error("{}: not a directory", dir.string());
  RunData run;
  run.dir = dir;
  // The folder's own name, also for "runs/adam/", "." or "..": normalise the absolute path first.
  fs::path normal = fs::absolute(dir, ec).lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();
  run.name = normal.filename().string();
  if (run.name.empty()) run.name = dir.string();  // "/" or an unresolvable path
  std::string text, problem;

  const fs::path config = dir / "config.json";
  switch (read_text(config, text, problem)) {
    case ReadState::kMissing:
      run.notes.push_back(fmt::format("{}: missing (no config shown)", config.string()));
      break;
    case ReadState::kFailed:
      run.notes.push_back(fmt::format("{}: {}", config.string(), problem));
      break;
    case ReadState::kOk: {
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_object())
        run.notes.push_back(fmt::format("{}: {} (no config shown)", config.string(),
                                        j.is_discarded() ? "not valid JSON" : "not a JSON object"));
      else
        run.config = std::move(j);
    }
  }

  const fs::path metrics = dir / "metrics.jsonl";
  switch (read_text(metrics, text, problem)) {
    case ReadState::kMissing:
      run.notes.push_back(fmt::format("{}: missing (no training curves)", metrics.string()));
      break;
    case ReadState::kFailed:
      run.notes.push_back(fmt::format("{}: {}", metrics.string(), problem));
      break;
    case ReadState::kOk:
      run.metrics = parse_metrics(text, metrics.string(), run.notes);
  }

  // eval.json is optional: its absence is normal for a run that was only trained.
  const fs::path eval = dir / "eval.json";
  switch (read_text(eval, text, problem)) {
    case ReadState::kMissing:
      break;
    case ReadState::kFailed:
      run.notes.push_back(fmt::format("{}: {}", eval.string(), problem));
      break;
    case ReadState::kOk:
      run.eval = parse_eval(text, eval.string(), run.notes);
  }
  if (run.eval && !run.eval->name.empty()) run.name = run.eval->name;
  return run;
}

const nlohmann::json* config_value(const nlohmann::json& config, const char* section, const char* key) {
  if (!config.is_object()) return nullptr;
  const auto s = config.find(section);
  if (s == config.end() || !s->is_object()) return nullptr;
  const auto k = s->find(key);
  return k == s->end() ? nullptr : &*k;
}

std::string recipe_of(const nlohmann::json& config) {
  const auto get = [&](const char* section, const char* key) { return config_value(config, section, key); };
  std::string out;
  const auto append = [&](const std::string& part) { out += (out.empty() ? "" : " · ") + part; };
  if (const auto* g = get("optim", "groups"); g && g->is_string()) append(g->get<std::string>());
  if (const auto* n = get("model", "norm"); n && n->is_string()) append(n->get<std::string>());
  if (const auto* e = get("model", "emb_proj"); e && e->is_boolean() && e->get<bool>())
    append("emb_proj");
  return out;
}

}  // namespace osp::report
