// config.json of a Hugging Face Llama checkpoint: reading with refusals by name, and writing.
#include "io/hf_config.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "io/printable.h"

namespace osp::io {
namespace {

using nlohmann::json;

// Reads the integer field `key` (absent: `fallback`, or an error when none), in [1, 2^31).
Status read_size(const json& j, const char* key, std::optional<int64_t> fallback, int64_t& out,
                 std::string_view file) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (!fallback) return make_error("{}: field \"{}\" is missing", file, key);
    out = *fallback;
    return {};
  }
  if (!it->is_number_integer())
    return make_error("{}: field \"{}\" must be an integer, got {}", file, key, it->dump());
  const int64_t v = it->get<int64_t>();
  if (v < 1 || v >= (int64_t(1) << 31))
    return make_error("{}: field \"{}\" = {} is out of range [1, 2^31)", file, key, v);
  out = v;
  return {};
}

// A positive finite number, or nullopt when absent or null.
Result<std::optional<double>> read_positive(const json& j, const char* key, std::string_view file) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<double>{};
  if (!it->is_number()) return make_error("{}: field \"{}\" must be a number, got {}", file, key, it->dump());
  const double v = it->get<double>();
  if (!(v > 0) || !std::isfinite(v))
    return make_error("{}: field \"{}\" must be positive and finite, got {}", file, key, v);
  return std::optional<double>(v);
}

Status refuse_true(const json& j, const char* key, std::string_view file) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_boolean()) return make_error("{}: field \"{}\" must be a boolean", file, key);
  if (it->get<bool>()) return make_error("{}: \"{}\": true is not supported (osp models have no biases)", file, key);
  return {};
}

// bos/eos/pad: an int, a list of ints (the first is used) or null.
std::optional<int64_t> read_token_id(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_array() && !it->empty() && (*it)[0].is_number_integer()) return (*it)[0].get<int64_t>();
  return std::nullopt;
}

Status read_rope(const json& j, HfConfig& out, std::string_view file) {
  if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null())
    return make_error("{}: rope_scaling {} is not supported (only plain RoPE)", file, it->dump());
  auto theta = read_positive(j, "rope_theta", file);
  if (!theta) return theta.error();
  std::optional<double> theta2;
  if (auto it = j.find("rope_parameters"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return make_error("{}: rope_parameters must be an object", file);
    if (auto t = it->find("rope_type"); t != it->end() && !(t->is_string() && *t == "default"))
      return make_error("{}: rope_parameters.rope_type {} is not supported (only \"default\")", file, t->dump());
    for (const auto& [k, v] : it->items())
      if (k != "rope_type" && k != "rope_theta")
        return make_error("{}: rope_parameters.{} is not supported", file, printable(k));
    auto t = read_positive(*it, "rope_theta", file);
    if (!t) return t.error();
    theta2 = *t;
  }
  if (*theta && theta2 && **theta != *theta2)
    return make_error("{}: rope_theta ({}) and rope_parameters.rope_theta ({}) disagree", file, **theta, *theta2);
  if (*theta) out.model.rope_theta = **theta;
  else if (theta2) out.model.rope_theta = *theta2;
  else out.notices.push_back(fmt::format("{}: no rope_theta; using the Llama default 10000", file));
  return {};
}

Status read_dtype(const json& j, HfConfig& out, std::string_view file) {
  std::string a, b;
  for (auto [key, dst] : {std::pair{"torch_dtype", &a}, std::pair{"dtype", &b}}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_string()) return make_error("{}: field \"{}\" must be a string", file, key);
    *dst = it->get<std::string>();
  }
  if (!a.empty() && !b.empty() && a != b)
    return make_error("{}: torch_dtype \"{}\" and dtype \"{}\" disagree", file, printable(a), printable(b));
  out.dtype = a.empty() ? b : a;
  return {};
}

Status read_kind(const json& j, std::string_view file) {
  auto mt = j.find("model_type");
  if (mt == j.end() || !mt->is_string()) return make_error("{}: field \"model_type\" is missing", file);
  if (*mt != "llama") return make_error("{}: model_type \"{}\" is not supported (only \"llama\")", file, printable(mt->get<std::string>()));
  if (auto a = j.find("architectures"); a != j.end() && !a->is_null()) {
    if (!a->is_array()) return make_error("{}: \"architectures\" must be a list", file);
    for (const auto& name : *a)
      if (!(name.is_string() && name == "LlamaForCausalLM"))
        return make_error("{}: architecture {} is not supported (only LlamaForCausalLM)", file, name.dump());
  }
  if (auto act = j.find("hidden_act"); act != j.end() && !(act->is_string() && *act == "silu"))
    return make_error("{}: hidden_act {} is not supported (only \"silu\")", file, act->dump());
  OSP_TRY(refuse_true(j, "attention_bias", file));
  OSP_TRY(refuse_true(j, "mlp_bias", file));
  return {};
}

}  // namespace

Result<HfConfig> parse_hf_config(std::string_view text, std::string_view file) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error("{}: not valid JSON", file);
  if (!j.is_object()) return make_error("{}: not a JSON object", file);
  OSP_TRY(read_kind(j, file));
  HfConfig out;
  model::ModelConfig& c = out.model;
  OSP_TRY(read_size(j, "vocab_size", std::nullopt, c.vocab, file));
  OSP_TRY(read_size(j, "hidden_size", std::nullopt, c.hidden, file));
  OSP_TRY(read_size(j, "intermediate_size", std::nullopt, c.ffn, file));
  OSP_TRY(read_size(j, "num_hidden_layers", std::nullopt, c.layers, file));
  OSP_TRY(read_size(j, "num_attention_heads", std::nullopt, c.heads, file));
  OSP_TRY(read_size(j, "num_key_value_heads", c.heads, c.kv_heads, file));
  OSP_TRY(read_size(j, "max_position_embeddings", 2048, c.context, file));
  int64_t head_dim = 0;
  OSP_TRY(read_size(j, "head_dim", c.hidden / c.heads, head_dim, file));
  if (c.hidden % c.heads != 0 || head_dim != c.hidden / c.heads)
    return make_error("{}: head_dim {} is not hidden_size/num_attention_heads ({}/{}); not supported",
                      file, head_dim, c.hidden, c.heads);
  auto eps = read_positive(j, "rms_norm_eps", file);
  if (!eps) return eps.error();
  c.norm_eps = eps->value_or(1e-6);  // transformers' LlamaConfig default
  OSP_TRY(read_rope(j, out, file));
  OSP_TRY(read_dtype(j, out, file));
  if (auto t = j.find("tie_word_embeddings"); t != j.end() && !t->is_null()) {
    if (!t->is_boolean()) return make_error("{}: tie_word_embeddings must be a boolean", file);
    c.tie = t->get<bool>();
  }
  c.norm = model::NormKind::kRms;
  c.emb_proj = false;
  out.special = {read_token_id(j, "bos_token_id"), read_token_id(j, "eos_token_id"), read_token_id(j, "pad_token_id")};
  auto resolved = model::resolve(c);
  if (!resolved) return make_error("{}: {}", file, resolved.error().message);
  out.model = *resolved;
  return out;
}

namespace {
using ojson = nlohmann::ordered_json;
ojson id_or_null(const std::optional<int64_t>& v) { return v ? ojson(*v) : ojson(nullptr); }
}  // namespace

ojson hf_config_to_json(const model::ModelConfig& c, std::string_view torch_dtype, const HfSpecialIds& s) {
  ojson j = ojson::object();
  j["architectures"] = ojson::array({"LlamaForCausalLM"});
  j["model_type"] = "llama";
  j["vocab_size"] = c.vocab;
  j["hidden_size"] = c.hidden;
  j["intermediate_size"] = c.ffn;
  j["num_hidden_layers"] = c.layers;
  j["num_attention_heads"] = c.heads;
  j["num_key_value_heads"] = c.kv_heads;
  j["head_dim"] = c.head_dim();
  j["hidden_act"] = "silu";
  j["max_position_embeddings"] = c.context;
  j["rms_norm_eps"] = c.norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", c.rope_theta}};
  j["attention_bias"] = false;
  j["attention_dropout"] = 0.0;
  j["mlp_bias"] = false;
  j["pretraining_tp"] = 1;
  j["tie_word_embeddings"] = c.tie;
  j["initializer_range"] = 0.02;
  j["use_cache"] = true;
  j["bos_token_id"] = id_or_null(s.bos);
  j["eos_token_id"] = id_or_null(s.eos);
  if (s.pad) j["pad_token_id"] = *s.pad;
  j["torch_dtype"] = std::string(torch_dtype);
  j["dtype"] = std::string(torch_dtype);
  j["transformers_version"] = kHfTransformersVersion;
  return j;
}

ojson hf_generation_config_json(const HfSpecialIds& s) {
  ojson j = ojson::object();
  j["bos_token_id"] = id_or_null(s.bos);
  j["eos_token_id"] = id_or_null(s.eos);
  if (s.pad) j["pad_token_id"] = *s.pad;
  j["transformers_version"] = kHfTransformersVersion;
  return j;
}

}  // namespace osp::io
