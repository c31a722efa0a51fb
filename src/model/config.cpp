// Model configuration: defaults, validation and JSON conversion.
#include "model/config.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

namespace osp::model {

int64_t default_ffn_size(int64_t hidden) { return ((8 * hidden / 3 + 127) / 128) * 128; }

std::string norm_kind_name(NormKind k) { return k == NormKind::kRms ? "rms" : "ssnorm"; }

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

namespace {

Result<int64_t> get_int(const nlohmann::json& v, const std::string& key) {
  if (!v.is_number_integer()) return make_error("model.{} must be an integer", key);
  return v.get<int64_t>();
}
Result<double> get_number(const nlohmann::json& v, const std::string& key) {
  if (!v.is_number()) return make_error("model.{} must be a number", key);
  return v.get<double>();
}
Result<bool> get_bool(const nlohmann::json& v, const std::string& key) {
  if (!v.is_boolean()) return make_error("model.{} must be true or false", key);
  return v.get<bool>();
}

}  // namespace

Result<ModelConfig> model_config_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error("model config must be a JSON object");
  ModelConfig c;
  for (const auto& [key, v] : j.items()) {
    int64_t* int_field = key == "layers"     ? &c.layers
                         : key == "hidden"   ? &c.hidden
                         : key == "heads"    ? &c.heads
                         : key == "kv_heads" ? &c.kv_heads
                         : key == "ffn"      ? &c.ffn
                         : key == "vocab"    ? &c.vocab
                         : key == "context"  ? &c.context
                                             : nullptr;
    if (int_field != nullptr) {
      auto r = get_int(v, key);
      if (!r) return r.error();
      *int_field = *r;
    } else if (key == "rope_theta" || key == "norm_eps") {
      auto r = get_number(v, key);
      if (!r) return r.error();
      (key == "rope_theta" ? c.rope_theta : c.norm_eps) = *r;
    } else if (key == "emb_proj" || key == "tie") {
      auto r = get_bool(v, key);
      if (!r) return r.error();
      (key == "tie" ? c.tie : c.emb_proj) = *r;
    } else if (key == "norm") {
      if (v == "rms") c.norm = NormKind::kRms;
      else if (v == "ssnorm") c.norm = NormKind::kSingleScale;
      else return make_error("model.norm must be \"rms\" or \"ssnorm\", got {}", v.dump());
    } else if (key == "init") {
      if (v == "fan_in") {
        c.init_std = 0.0;
      } else {
        auto r = get_number(v, key);
        if (!r) return make_error("model.init must be \"fan_in\" or a standard deviation");
        if (*r <= 0) return make_error("model.init must be a positive standard deviation, got {}", *r);
        c.init_std = *r;
      }
    } else {
      return make_error("unknown key model.{}", key);
    }
  }
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
