// GGUF import: llama keys -> config, tensors -> fp32 parameters, tokenizer keys -> tokenizer.json.
#include "io/gguf_import.h"

#include <fmt/format.h>

#include <cstring>
#include <map>

#include "io/gguf_export.h"
#include "io/gguf_reader.h"
#include "io/gguf_tokenizer.h"
#include "io/printable.h"

namespace osp::io {
namespace {

namespace fs = std::filesystem;

struct LlamaKeys {
  const GgufReader& r;

  Result<uint64_t> count(const std::string& key, std::optional<uint64_t> fallback = std::nullopt) const {
    const GgufValue* v = r.find(key);
    if (v == nullptr) {
      if (fallback) return *fallback;
      return make_error("{}: {} is missing", r.file(), key);
    }
    const auto u = v->as_uint();
    if (!u || *u == 0 || *u > (1ull << 31)) return make_error("{}: {} = {} is not a positive count", r.file(), key, printable(v->summary()));
    return *u;
  }
  Result<double> real(const std::string& key, double fallback) const {
    const GgufValue* v = r.find(key);
    if (v == nullptr) return fallback;
    if (v->type != GgufValueType::kF32 && v->type != GgufValueType::kF64)
      return make_error("{}: {} is a {}, not a float", r.file(), key, gguf_value_type_name(v->type));
    return v->f;
  }
};

// Keys whose presence changes the model in ways osp's Llama does not implement.
Status refuse_unsupported(const GgufReader& r) {
  for (const auto& kv : r.metadata()) {
    const std::string& k = kv.key;
    if (k.starts_with("llama.rope.scaling.")) {
      if (k == "llama.rope.scaling.type" && kv.value.type == GgufValueType::kString && kv.value.s == "none") continue;
      if (k == "llama.rope.scaling.factor" && (kv.value.type == GgufValueType::kF32 || kv.value.type == GgufValueType::kF64) &&
          kv.value.f == 1.0)
        continue;
      return make_error("{}: {} = {}: RoPE scaling is not supported by osp", r.file(), printable(k), printable(kv.value.summary()));
    }
    if (k == "llama.expert_count" && kv.value.as_uint().value_or(1) != 0)
      return make_error("{}: {} = {}: mixture-of-experts models are not supported", r.file(), k, printable(kv.value.summary()));
  }
  return {};
}

}  // namespace

Result<model::ModelConfig> gguf_llama_config(const GgufReader& r) {
  const GgufValue* arch = r.find("general.architecture");
  if (arch == nullptr) return make_error("{}: general.architecture is missing", r.file());
  if (arch->type != GgufValueType::kString || arch->s != "llama")
    return make_error("{}: general.architecture = {}: only llama is supported", r.file(), printable(arch->summary()));
  OSP_TRY(refuse_unsupported(r));
  const LlamaKeys k{r};
  model::ModelConfig c;
  auto get = [&](const char* key, int64_t& out, std::optional<uint64_t> fallback = std::nullopt) -> Status {
    auto v = k.count(key, fallback);
    if (!v) return v.error();
    out = int64_t(*v);
    return {};
  };
  OSP_TRY(get("llama.block_count", c.layers));
  OSP_TRY(get("llama.embedding_length", c.hidden));
  OSP_TRY(get("llama.feed_forward_length", c.ffn));
  OSP_TRY(get("llama.attention.head_count", c.heads));
  OSP_TRY(get("llama.attention.head_count_kv", c.kv_heads, uint64_t(c.heads)));
  OSP_TRY(get("llama.context_length", c.context, 2048));
  const GgufTensorInfo* embd = r.tensor("token_embd.weight");
  if (embd == nullptr) return make_error("{}: tensor token_embd.weight is missing", r.file());
  if (embd->ne.size() != 2) return make_error("{}: token_embd.weight is not 2-D", r.file());
  OSP_TRY(get("llama.vocab_size", c.vocab, embd->ne[1]));  // older files lack the key
  auto theta = k.real("llama.rope.freq_base", 10000.0);
  if (!theta) return theta.error();
  auto eps = k.real("llama.attention.layer_norm_rms_epsilon", 1e-5);
  if (!eps) return eps.error();
  c.rope_theta = *theta;
  c.norm_eps = *eps;
  if (c.heads <= 0 || c.hidden % c.heads != 0)
    return make_error("{}: llama.embedding_length {} is not a multiple of llama.attention.head_count {}", r.file(), c.hidden,
                      c.heads);
  const int64_t dh = c.hidden / c.heads;
  for (const char* key : {"llama.rope.dimension_count", "llama.attention.key_length", "llama.attention.value_length"}) {
    if (r.find(key) == nullptr) continue;
    auto v = k.count(key);
    if (!v) return v.error();
    if (int64_t(*v) != dh)
      return make_error("{}: {} = {}, but osp's Llama needs embedding_length / head_count = {}", r.file(), key, *v, dh);
  }
  c.tie = r.tensor("output.weight") == nullptr;
  auto resolved = model::resolve(c);
  if (!resolved) return make_error("{}: {}", r.file(), resolved.error().message);
  return resolved;
}

std::vector<float> unpermute_qk_rows(std::span<const float> w, int64_t heads, int64_t dh, int64_t cols) {
  std::vector<float> out(w.size());
  const int64_t half = dh / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        std::memcpy(out.data() + (h * dh + j * half + i) * cols, w.data() + (h * dh + 2 * i + j) * cols,
                    size_t(cols) * sizeof(float));
  return out;
}

Result<LoadedModel> load_gguf_llama(const fs::path& file, std::vector<std::string>* notices) {
  std::vector<std::string> local;
  if (notices == nullptr) notices = &local;
  auto reader = GgufReader::open(file);
  if (!reader) return reader.error();
  const GgufReader& r = *reader;
  auto config = gguf_llama_config(r);
  if (!config) return config.error();
  const model::ModelConfig& c = *config;

  LoadedModel m{c, model::ParamTable(c), AlignedBuffer<float>(0), file, {}, {}, {}};
  m.params = AlignedBuffer<float>(m.table.total_elems());
  const auto& params = m.table.params();
  std::map<std::string, size_t> wanted;  // GGUF name -> parameter index
  for (size_t i = 0; i < params.size(); ++i) wanted[gguf_tensor_name(params[i].name)] = i;
  std::vector<const GgufTensorInfo*> sources(params.size(), nullptr);
  for (const auto& t : r.tensors()) {
    const auto it = wanted.find(t.name);
    if (it == wanted.end()) {
      if (t.name == "rope_freqs.weight")
        return make_error("{}: tensor rope_freqs.weight: RoPE frequency scaling is not supported by osp", r.file());
      if (t.name.ends_with(".bias"))
        return make_error("{}: bias tensor {} is not supported (osp models have no biases)", r.file(), printable(t.name));
      return make_error("{}: unexpected tensor {}", r.file(), printable(t.name));
    }
    const auto& p = params[it->second];
    const std::vector<uint64_t> want(p.shape.rbegin(), p.shape.rend());  // ggml order
    if (t.ne != want)
      return make_error("{}: tensor {} has ggml dims [{}], the llama.* keys imply [{}]", r.file(), t.name, fmt::join(t.ne, ", "),
                        fmt::join(want, ", "));
    sources[it->second] = &t;
  }
  for (size_t i = 0; i < params.size(); ++i)
    if (sources[i] == nullptr) return make_error("{}: tensor {} is missing", r.file(), gguf_tensor_name(params[i].name));

  // Decoding dominates import time; tensors are independent, so the cores share it.
  std::vector<std::string> errors(params.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    auto v = r.read_f32(sources[i]->name);
    if (!v) {
      errors[i] = v.error().message;
      continue;
    }
    float* dst = m.params.data() + p.offset;
    if (p.role == model::ParamRole::kAttnQ || p.role == model::ParamRole::kAttnK) {
      const int64_t heads = p.role == model::ParamRole::kAttnQ ? c.heads : c.kv_heads;
      const std::vector<float> u = unpermute_qk_rows(*v, heads, c.head_dim(), c.hidden);
      std::memcpy(dst, u.data(), u.size() * sizeof(float));
    } else {
      std::memcpy(dst, v->data(), v->size() * sizeof(float));
    }
  }
  for (const auto& e : errors)
    if (!e.empty()) return Error{e};

  if (gguf_has_tokenizer(r)) {
    auto json = gguf_tokenizer_json(r);
    if (!json) return json.error();
    m.tokenizer_json = std::move(*json);
    if (const GgufValue* eos = r.find("tokenizer.ggml.eos_token_id"))
      if (auto u = eos->as_uint(); u && *u < uint64_t(c.vocab)) m.eos_id = int64_t(*u);
  } else {
    notices->push_back(fmt::format("{}: has no tokenizer keys; give --tokenizer where text is encoded", r.file()));
  }
  return m;
}

}  // namespace osp::io
