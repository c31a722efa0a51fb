// [optim] settings from and to JSON.
#include "optim/optim_config.h"

#include <nlohmann/json.hpp>

#include "core/json_fields.h"

namespace osp::optim {

Result<OptimConfig> optim_config_from_json(const nlohmann::json& j, OptimConfig c) {
  JsonFields f(j, "optim");
  f.value("groups", [&](const nlohmann::json& v, const std::string& name) -> Status {
    auto g = v.is_string() ? parse_groups(v.get<std::string>()) : Result<GroupsKind>(make_error("must be a string"));
    if (!g) return make_error("{}: {}", name, g.error().message);
    c.groups = *g;
    return {};
  });
  f.number("clip", c.clip, Range::non_negative()).boolean("decay_norms", c.decay_norms);
  f.value("adamw", [&](const nlohmann::json& v, const std::string& name) -> Status {
    AdamWHyper& h = c.adamw;
    JsonFields a(v, name);
    a.number("lr", h.lr, Range::non_negative()).number("beta1", h.beta1, {0.0, 1.0, false})
        .number("beta2", h.beta2, {0.0, 1.0, false}).number("eps", h.eps, Range::positive())
        .number("wd", h.wd, Range::non_negative());
    if (h.beta1 >= 1 || h.beta2 >= 1) return make_error("{}.beta1 and beta2 must be below 1", name);
    return a.finish();
  });
  f.value("muon", [&](const nlohmann::json& v, const std::string& name) -> Status {
    MuonHyper& h = c.muon;
    std::string ns = h.ns_precision == NsPrecision::kBF16 ? "bf16" : "fp32";
    JsonFields m(v, name);
    m.number("lr", h.lr, Range::non_negative()).number("beta", h.beta, {0.0, 1.0, false})
        .integer("ns_steps", h.ns_steps, {0.0, 100.0}).number("eps", h.eps, Range::positive())
        .number("wd", h.wd, Range::non_negative()).string("ns_dtype", ns);
    OSP_TRY(m.finish());
    if (h.beta >= 1) return make_error("{}.beta must be below 1", name);
    if (ns != "fp32" && ns != "bf16") return make_error("{}.ns_dtype must be \"fp32\" or \"bf16\", got \"{}\"", name, ns);
    h.ns_precision = ns == "bf16" ? NsPrecision::kBF16 : NsPrecision::kF32;
    return {};
  });
  f.value("schedule", [&](const nlohmann::json& v, const std::string& name) -> Status {
    Schedule& s = c.schedule;
    std::string kind = schedule_kind_name(s.kind);
    JsonFields sf(v, name);
    sf.string("kind", kind).integer("total_steps", s.total_steps, Range::non_negative())
        .integer("warmup_steps", s.warmup_steps, {-1.0}).number("min_ratio", s.min_ratio, Range::unit())
        .number("decay_fraction", s.decay_fraction, Range::unit());
    OSP_TRY(sf.finish());
    auto k = parse_schedule_kind(kind);
    if (!k) return make_error("{}.kind: {}", name, k.error().message);
    s.kind = *k;
    return {};
  });
  OSP_TRY(f.finish());
  return c;
}

nlohmann::json optim_config_to_json(const OptimConfig& c) {
  return {
      {"groups", groups_name(c.groups)},
      {"clip", c.clip},
      {"decay_norms", c.decay_norms},
      {"adamw", {{"lr", c.adamw.lr}, {"beta1", c.adamw.beta1}, {"beta2", c.adamw.beta2}, {"eps", c.adamw.eps}, {"wd", c.adamw.wd}}},
      {"muon", {{"lr", c.muon.lr}, {"beta", c.muon.beta}, {"ns_steps", c.muon.ns_steps}, {"eps", c.muon.eps},
                {"wd", c.muon.wd}, {"ns_dtype", c.muon.ns_precision == NsPrecision::kBF16 ? "bf16" : "fp32"}}},
      {"schedule", {{"kind", schedule_kind_name(c.schedule.kind)}, {"total_steps", c.schedule.total_steps},
                    {"warmup_steps", c.schedule.warmup_steps}, {"min_ratio", c.schedule.min_ratio},
                    {"decay_fraction", c.schedule.decay_fraction}}},
  };
}

}  // namespace osp::optim
