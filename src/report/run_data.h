// Reading one run folder for the report: config.json, metrics.jsonl and eval.json. Reading is
// forgiving: a missing or malformed piece adds a one-line note naming the file, and everything
// readable is kept, so the report renders what it can.
#pragma once
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace osp::report {

using Curve = std::vector<std::pair<double, double>>;  // (step, value), sorted by step

struct TrainingMetrics {
  Curve loss, val_loss, kurtosis, max_act_ratio;
};

// eval.json; NaN or empty for absent keys.
struct EvalResults {
  std::string name, command;
  double ppl_fp = NAN, ppl_rtn = NAN, ppl_had = NAN;
  double ppl_w4 = NAN, ppl_a4 = NAN, ppl_kv4 = NAN;  // the RTN split: W4A16KV16, W16A4KV16, W16A16KV4
  double kurtosis_token = NAN, kurtosis_sequence = NAN, max_act_ratio = NAN;
  int64_t max_act_channel = -1;
  std::vector<double> per_state_kurtosis;      // L+1 values: embedding output ... final norm
  std::vector<double> last_state_channel_max;  // D values
  // The sites whose 4-bit quantization alone costs most: (name, relative PPL increase).
  std::vector<std::pair<std::string, double>> costliest_sites;
  // Greedy continuation of one prompt at full precision and at W4A4KV4 (RTN); empty when absent.
  std::string prompt, continuation_fp, continuation_w4a4kv4;
};

struct RunData {
  std::string name;  // eval.json "name", else the folder name
  std::filesystem::path dir;
  std::optional<nlohmann::json> config;  // config.json when it parsed as an object
  TrainingMetrics metrics;
  std::optional<EvalResults> eval;
  std::vector<std::string> notes;  // "<file>: <problem>", one line each
};

// Parses metrics.jsonl text; malformed lines are skipped and summarised in one note (first bad
// line number and count). `file` names the source in notes.
TrainingMetrics parse_metrics(std::string_view text, const std::string& file,
                              std::vector<std::string>& notes);

// Parses eval.json text; keys of the wrong type are ignored with a note each.
std::optional<EvalResults> parse_eval(std::string_view text, const std::string& file,
                                      std::vector<std::string>& notes);

// Reads a run folder. Fails only when `dir` is not a readable directory.
Result<RunData> read_run(const std::filesystem::path& dir);

// config[section][key], or nullptr when either is absent (or config is not an object).
const nlohmann::json* config_value(const nlohmann::json& config, const char* section, const char* key);

// A short description of the run's recipe from its config ("muon · ssnorm · emb_proj"), or "".
std::string recipe_of(const nlohmann::json& config);

}  // namespace osp::report
