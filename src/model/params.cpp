// Parameter table construction and binding of typed views.
#include "model/params.h"

#include <fmt/format.h>

#include "core/check.h"
#include "core/dtype.h"

namespace osp::model {

ParamTable::ParamTable(const ModelConfig& c) {
  const int64_t d = c.hidden, qd = c.heads * c.head_dim(), kvd = c.kv_heads * c.head_dim();
  const std::vector<int64_t> gain = c.single_scale() ? std::vector<int64_t>{} : std::vector<int64_t>{d};
  add("model.embed_tokens.weight", {c.vocab, d}, ParamRole::kEmbedding, -1, 0);
  if (c.emb_proj) add("model.embed_proj.weight", {d, d}, ParamRole::kEmbProj, -1, d);
  for (int l = 0; l < int(c.layers); ++l) {
    const std::string p = fmt::format("model.layers.{}.", l);
    add(p + "input_layernorm.weight", gain, ParamRole::kNormGain, l, 0);
    add(p + "self_attn.q_proj.weight", {qd, d}, ParamRole::kAttnQ, l, d);
    add(p + "self_attn.k_proj.weight", {kvd, d}, ParamRole::kAttnK, l, d);
    add(p + "self_attn.v_proj.weight", {kvd, d}, ParamRole::kAttnV, l, d);
    add(p + "self_attn.o_proj.weight", {d, qd}, ParamRole::kAttnO, l, qd);
    add(p + "post_attention_layernorm.weight", gain, ParamRole::kNormGain, l, 0);
    add(p + "mlp.gate_proj.weight", {c.ffn, d}, ParamRole::kFfnGate, l, d);
    add(p + "mlp.up_proj.weight", {c.ffn, d}, ParamRole::kFfnUp, l, d);
    add(p + "mlp.down_proj.weight", {d, c.ffn}, ParamRole::kFfnDown, l, c.ffn);
  }
  add("model.norm.weight", gain, ParamRole::kNormGain, -1, 0);
  if (c.emb_proj) add("model.head_proj.weight", {d, d}, ParamRole::kHeadProj, -1, d);
  if (!c.tie) add("lm_head.weight", {c.vocab, d}, ParamRole::kHead, -1, d);
}

void ParamTable::add(std::string name, std::vector<int64_t> shape, ParamRole role, int layer,
                     int64_t fan_in) {
  ParamInfo p;
  p.numel = 1;
  for (int64_t s : shape) p.numel *= s;
  p.name = std::move(name);
  p.shape = std::move(shape);
  p.offset = total_;
  p.role = role;
  p.layer = layer;
  p.fan_in = fan_in;
  // Every tensor starts on a 64-byte boundary (16 floats) for vector loads.
  total_ += (p.numel + 15) / 16 * 16;
  params_.push_back(std::move(p));
}

int64_t ParamTable::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.numel;
  return n;
}

const ParamInfo* ParamTable::find(const std::string& name) const {
  for (const auto& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}

template <class T>
LlamaWeights<T> LlamaWeights<T>::bind(const ParamTable& table, T* base) {
  LlamaWeights<T> w;
  w.base = base;
  for (const auto& p : table.params()) {
    T* ptr = base + p.offset;
    if (p.layer < 0) {
      switch (p.role) {
        case ParamRole::kEmbedding: w.embed = ptr; break;
        case ParamRole::kEmbProj: w.emb_proj = ptr; break;
        case ParamRole::kHeadProj: w.head_proj = ptr; break;
        case ParamRole::kHead: w.head = ptr; break;
        case ParamRole::kNormGain: w.final_norm = ptr; break;
        default: OSP_CHECK(false, "{} has no layer", p.name);
      }
      continue;
    }
    if (size_t(p.layer) >= w.layers.size()) w.layers.resize(size_t(p.layer) + 1);
    LayerWeights<T>& lw = w.layers[size_t(p.layer)];
    switch (p.role) {
      case ParamRole::kNormGain:  // input_layernorm is listed before post_attention_layernorm
        (lw.input_norm == nullptr ? lw.input_norm : lw.post_attn_norm) = ptr;
        break;
      case ParamRole::kAttnQ: lw.q = ptr; break;
      case ParamRole::kAttnK: lw.k = ptr; break;
      case ParamRole::kAttnV: lw.v = ptr; break;
      case ParamRole::kAttnO: lw.o = ptr; break;
      case ParamRole::kFfnGate: lw.gate = ptr; break;
      case ParamRole::kFfnUp: lw.up = ptr; break;
      case ParamRole::kFfnDown: lw.down = ptr; break;
      default: OSP_CHECK(false, "{} cannot be inside a layer", p.name);
    }
  }
  if (w.head == nullptr) w.head = w.embed;  // tied
  OSP_CHECK(w.embed != nullptr && w.final_norm != nullptr, "incomplete parameter table");
  return w;
}

template struct LlamaWeights<float>;
template struct LlamaWeights<double>;
template struct LlamaWeights<BFloat16>;

}  // namespace osp::model
