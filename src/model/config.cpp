// Model configuration: defaults, validation and JSON conversion.
#include "model/config.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "core/json_fields.h"

namespace osp::model {

int64_t default_ffn_size(int64_t hidden) { return ((8 * hidden / 3 + 127) / 128) * 128; }

std::string norm_kind_name(NormKind k) { return k == NormKind::kRms ? "rms" : "ssnorm"; }

std::string precision_name(Precision p) { return p == Precision::kF32 ? "fp32" : "bf16"; }

Result<Precision> parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kF32;
  if (name == "bf16") return Precision::kBF16;
  return make_error("must be \"fp32\" or \"bf16\", got \"{}\"", name);
}

Result<ModelConfig> resolve(ModelConfig c) {
  auto positive = [](const char* field, int64_t v) -> Status {
    if (v < 1) return make_error("model.{} must be at least 1, got {}", field, v);
    return {};
  };
  OSP_TRY(positive("layers", c.layers));
  OSP_TRY(positive("hidden", c.hidden));
  OSP_TRY(positive("heads", c.heads));
  OSP_TRY(positive("vocab", c.vocab));
  if (c.kv_heads == 0) c.kv_heads = c.heads;
  OSP_TRY(positive("kv_heads", c.kv_heads));
  if (c.ffn == 0) c.ffn = default_ffn_size(c.hidden);
  OSP_TRY(positive("ffn", c.ffn));
  OSP_TRY(positive("context", c.context));
  if (c.hidden % c.heads != 0)
    return make_error("model.heads ({}) must divide model.hidden ({})", c.heads, c.hidden);
  if (c.heads % c.kv_heads != 0)
    return make_error("model.kv_heads ({}) must divide model.heads ({})", c.kv_heads, c.heads);
  if (c.head_dim() % 2 != 0)
    return make_error("head dim model.hidden/model.heads = {} must be even for RoPE", c.head_dim());
  if (!(c.rope_theta > 0) || !std::isfinite(c.rope_theta))
    return make_error("model.rope_theta must be positive, got {}", c.rope_theta);
  if (!(c.norm_eps > 0) || !std::isfinite(c.norm_eps))
    return make_error("model.norm_eps must be positive, got {}", c.norm_eps);
  if (!(c.init_std >= 0) || !std::isfinite(c.init_std))
    return make_error("model.init must be \"fan_in\" or a positive standard deviation, got {}", c.init_std);
  return c;
}

Result<ModelConfig> model_config_from_json(const nlohmann::json& j) {
  ModelConfig c;
  JsonFields f(j, "model");
  f.integer("layers", c.layers).integer("hidden", c.hidden).integer("heads", c.heads)
      .integer("kv_heads", c.kv_heads).integer("ffn", c.ffn).integer("vocab", c.vocab)
      .integer("context", c.context).number("rope_theta", c.rope_theta)
      .number("norm_eps", c.norm_eps).boolean("emb_proj", c.emb_proj).boolean("tie", c.tie);
  f.value("norm", [&](const nlohmann::json& v, const std::string& name) -> Status {
    if (v == "rms") c.norm = NormKind::kRms;
    else if (v == "ssnorm") c.norm = NormKind::kSingleScale;
    else return make_error("{} must be \"rms\" or \"ssnorm\", got {}", name, v.dump());
    return {};
  });
  f.value("init", [&](const nlohmann::json& v, const std::string& name) -> Status {
    if (v.is_number() && v.get<double>() > 0) c.init_std = v.get<double>();
    else if (v == "fan_in") c.init_std = 0.0;
    else return make_error("{} must be \"fan_in\" or a positive standard deviation, got {}", name, v.dump());
    return {};
  });
  OSP_TRY(f.finish());
  return resolve(c);
}

nlohmann::json model_config_to_json(const ModelConfig& c) {
  nlohmann::json j;
  j["layers"] = c.layers;
  j["hidden"] = c.hidden;
  j["heads"] = c.heads;
  j["kv_heads"] = c.kv_heads;
  j["ffn"] = c.ffn;
  j["vocab"] = c.vocab;
  j["rope_theta"] = c.rope_theta;
  j["norm_eps"] = c.norm_eps;
  j["norm"] = norm_kind_name(c.norm);
  j["emb_proj"] = c.emb_proj;
  j["tie"] = c.tie;
  if (c.init_std > 0) j["init"] = c.init_std;
  else j["init"] = "fan_in";
  j["context"] = c.context;
  return j;
}

}  // namespace osp::model
