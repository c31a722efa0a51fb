// Run configuration: TOML → JSON → validated RunConfig.
#include "train/run_config.h"

#include <toml++/toml.h>

#include <sstream>

#include "core/json_fields.h"
#include "optim/optim_config.h"

namespace osp::train {
namespace {

nlohmann::json toml_to_json(const toml::table& t) {
  std::ostringstream s;
  s << toml::json_formatter{t};
  return nlohmann::json::parse(s.str());
}

Status read_train(const nlohmann::json& j, const std::string& name, TrainSettings& t) {
  const Range pos{1.0};
  JsonFields f(j, name);
  f.integer("steps", t.steps, pos).integer("batch", t.batch, pos).integer("seq", t.seq, pos)
      .integer("accum", t.accum, pos).integer("batch_tokens", t.batch_tokens, Range::non_negative())
      .integer("seed", t.seed, Range::non_negative()).integer("log_every", t.log_every, pos)
      .integer("save_every", t.save_every, Range::non_negative())
      .integer("keep_checkpoints", t.keep_checkpoints, pos)
      .integer("threads", t.threads, Range::non_negative());
  std::string precision = model::precision_name(t.precision);
  f.string("precision", precision);
  OSP_TRY(f.finish());
  auto p = model::parse_precision(precision);
  if (!p) return make_error("{}.precision {}", name, p.error().message);
  t.precision = *p;
  if (t.batch_tokens > 0) {
    const int64_t micro = t.batch * t.seq;
    if (t.batch_tokens % micro != 0)
      return make_error("{}.batch_tokens = {} is not a multiple of batch x seq = {}", name, t.batch_tokens, micro);
    t.accum = t.batch_tokens / micro;
  }
  return {};
}

}  // namespace

Result<RunConfig> run_config_from_json(const nlohmann::json& j) {
  RunConfig c;
  bool have_model = false;
  JsonFields f(j, "");
  f.value("model", [&](const nlohmann::json& v, const std::string&) -> Status {
    auto m = model::model_config_from_json(v);
    if (!m) return m.error();
    c.model = *m;
    have_model = true;
    return {};
  });
  f.value("optim", [&](const nlohmann::json& v, const std::string&) -> Status {
    auto o = optim::optim_config_from_json(v);
    if (!o) return o.error();
    c.optim = *o;
    return {};
  });
  f.value("data", [&](const nlohmann::json& v, const std::string& name) -> Status {
    JsonFields d(v, name);
    d.string("train", c.data.train).string("val", c.data.val);
    return d.finish();
  });
  f.value("train", [&](const nlohmann::json& v, const std::string& name) { return read_train(v, name, c.train); });
  f.value("eval", [&](const nlohmann::json& v, const std::string& name) -> Status {
    JsonFields e(v, name);
    e.integer("every", c.eval.every, Range::non_negative()).integer("batches", c.eval.batches, Range{1.0})
        .integer("watch_every", c.eval.watch_every, Range::non_negative())
        .integer("watch_rows", c.eval.watch_rows, Range{1.0})
        .number("warn_kurtosis", c.eval.warn_kurtosis, Range::positive())
        .number("warn_max_ratio", c.eval.warn_max_ratio, Range::positive());
    return e.finish();
  });
  OSP_TRY(f.finish());
  if (!have_model) return make_error("the config has no [model] section");
  if (c.train.seq > c.model.context)
    return make_error("train.seq = {} exceeds model.context = {}", c.train.seq, c.model.context);
  if (c.optim.schedule.total_steps == 0) c.optim.schedule.total_steps = c.train.steps;
  // NS5 follows the run's precision unless set: bf16 runs orthogonalise in bf16 as the paper's
  // code does (osp-method.md §2.2); fp32 runs in fp32, the CPU default of the spec.
  const bool ns_set = j.contains("optim") && j["optim"].is_object() && j["optim"].contains("muon") &&
                      j["optim"]["muon"].is_object() && j["optim"]["muon"].contains("ns_dtype");
  if (!ns_set && c.train.precision == model::Precision::kBF16) c.optim.muon.ns_precision = optim::NsPrecision::kBF16;
  return c;
}

nlohmann::json run_config_to_json(const RunConfig& c) {
  const TrainSettings& t = c.train;
  return {
      {"model", model::model_config_to_json(c.model)},
      {"optim", optim::optim_config_to_json(c.optim)},
      {"data", {{"train", c.data.train}, {"val", c.data.val}}},
      {"train", {{"steps", t.steps}, {"batch", t.batch}, {"seq", t.seq}, {"accum", t.accum},
                 {"seed", t.seed}, {"log_every", t.log_every}, {"save_every", t.save_every},
                 {"keep_checkpoints", t.keep_checkpoints}, {"threads", t.threads},
                 {"precision", model::precision_name(t.precision)}}},
      {"eval", {{"every", c.eval.every}, {"batches", c.eval.batches}, {"watch_every", c.eval.watch_every},
                {"watch_rows", c.eval.watch_rows}, {"warn_kurtosis", c.eval.warn_kurtosis},
                {"warn_max_ratio", c.eval.warn_max_ratio}}},
  };
}

Status apply_override(nlohmann::json& j, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    return make_error("--set expects section.key=value, got \"{}\"", assignment);
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  nlohmann::json value;
  try {  // a TOML value (number, bool, quoted string, array); anything else is a bare string
    value = toml_to_json(toml::parse("v = " + text))["v"];
  } catch (const toml::parse_error&) {
    value = text;
  }
  nlohmann::json* node = &j;
  std::string::size_type start = 0;
  for (;;) {
    const auto dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) return make_error("--set: bad key \"{}\"", path);
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return {};
    }
    nlohmann::json& child = (*node)[key];
    if (child.is_null()) child = nlohmann::json::object();
    if (!child.is_object()) return make_error("--set: {} is not a section", path.substr(0, dot));
    node = &child;
    start = dot + 1;
  }
}

Result<RunConfig> load_run_config(const std::filesystem::path& toml_file,
                                  const std::vector<std::string>& overrides) {
  nlohmann::json j;
  try {
    j = toml_to_json(toml::parse_file(toml_file.string()));
  } catch (const toml::parse_error& e) {
    return make_error("{}: {} (line {})", toml_file.string(), std::string(e.description()),
                      e.source().begin.line);
  }
  for (const auto& o : overrides) OSP_TRY(apply_override(j, o));
  auto c = run_config_from_json(j);
  if (!c) return make_error("{}: {}", toml_file.string(), c.error().message);
  return c;
}

}  // namespace osp::train
