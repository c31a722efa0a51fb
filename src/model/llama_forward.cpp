// The forward pass (osp-method.md §1.2) and the loss (§1.8).
#include <algorithm>
#include <cstring>

#include "model/llama.h"
#include "ops/attention.h"
#include "ops/cross_entropy.h"
#include "ops/embedding.h"
#include "ops/matmul.h"
#include "ops/rmsnorm.h"
#include "ops/swiglu.h"

namespace osp::model {

template <class T>
void Llama<T>::forward(const LlamaWeights<T>& w, const int32_t* tokens, int64_t b, int64_t t,
                       ForwardTap<T>* tap) {
  OSP_CHECK(b >= 1 && b <= max_batch_ && t >= 1 && t <= max_seq_,
            "batch {}x{} exceeds the planned {}x{}", b, t, max_batch_, max_seq_);
  const int64_t n = b * t, d = cfg_.hidden, f = cfg_.ffn, dh = cfg_.head_dim();
  const int64_t qd = cfg_.heads * dh, kvd = cfg_.kv_heads * dh;
  const float eps = float(cfg_.norm_eps);
  const bool ss = cfg_.single_scale();
  const ops::AttentionShape shape{b, t, cfg_.heads, cfg_.kv_heads, dh};

  // Embedding, then R1 (x = E[t] · R1ᵀ).
  T* x = layers_[0].resid_in;
  if (cfg_.emb_proj) {
    ops::embedding_forward(emb_, tokens, w.embed, n, d, cfg_.vocab);
    ops::matmul_forward(x, emb_, w.emb_proj, n, d, d);
  } else {
    ops::embedding_forward(x, tokens, w.embed, n, d, cfg_.vocab);
  }
  if (tap != nullptr) tap->hidden_state(0, x, n, d);

  const int64_t layers = tap != nullptr ? std::min(cfg_.layers, tap->layers_needed()) : cfg_.layers;
  for (int64_t l = 0; l < layers; ++l) {
    const LayerWeights<T>& lw = w.layers[size_t(l)];
    LayerActs& a = layers_[size_t(l)];
    T* next = l + 1 < cfg_.layers ? layers_[size_t(l + 1)].resid_in : resid_out_;
    const int li = int(l);

    // Attention sub-layer: mid = x + Attn(Norm(x)).
    ops::rmsnorm_forward(a.norm1, a.rstd1, a.resid_in, lw.input_norm, n, d, eps, ss);
    if (tap != nullptr) tap->linear_input(LinearInput::kQkv, li, a.norm1, n, d);
    ops::matmul_forward(a.q, a.norm1, lw.q, n, d, qd);
    ops::matmul_forward(a.k, a.norm1, lw.k, n, d, kvd);
    ops::matmul_forward(a.v, a.norm1, lw.v, n, d, kvd);
    if (tap != nullptr) tap->value(li, a.v, n);
    ops::rope_forward(a.q, rope_, b, t, cfg_.heads);
    ops::rope_forward(a.k, rope_, b, t, cfg_.kv_heads);
    if (tap != nullptr) tap->query_key(li, a.q, a.k, n);
    ops::attention_forward(a.att, a.probs, a.q, a.k, a.v, workspace_, shape);
    if (tap != nullptr) tap->linear_input(LinearInput::kAttnOut, li, a.att, n, qd);
    if (a.resid_mid != a.resid_in) std::memcpy(a.resid_mid, a.resid_in, sizeof(T) * size_t(n * d));
    ops::matmul_forward(a.resid_mid, a.att, lw.o, n, qd, d, /*accumulate=*/true);

    // FFN sub-layer: next = mid + Down(silu(Gate(h)) · Up(h)), h = Norm(mid).
    ops::rmsnorm_forward(a.norm2, a.rstd2, a.resid_mid, lw.post_attn_norm, n, d, eps, ss);
    if (tap != nullptr) tap->linear_input(LinearInput::kGateUp, li, a.norm2, n, d);
    ops::matmul_forward(a.gate, a.norm2, lw.gate, n, d, f);
    ops::matmul_forward(a.up, a.norm2, lw.up, n, d, f);
    ops::swiglu_forward(a.act, a.gate, a.up, n * f);
    if (tap != nullptr) tap->linear_input(LinearInput::kDown, li, a.act, n, f);
    if (next != a.resid_mid) std::memcpy(next, a.resid_mid, sizeof(T) * size_t(n * d));
    ops::matmul_forward(next, a.act, lw.down, n, f, d, /*accumulate=*/true);
    if (tap != nullptr && l + 1 < cfg_.layers) tap->hidden_state(li + 1, next, n, d);
  }
  if (layers < cfg_.layers) return;  // the tap has seen all it needs

  // Final norm, R2, head.
  ops::rmsnorm_forward(norm_f_, rstd_f_, resid_out_, w.final_norm, n, d, eps, ss);
  if (tap != nullptr) {
    tap->hidden_state(int(cfg_.layers), norm_f_, n, d);
    tap->linear_input(LinearInput::kHead, -1, norm_f_, n, d);
  }
  if (cfg_.emb_proj) ops::matmul_forward(head_in_, norm_f_, w.head_proj, n, d, d);
  ops::matmul_forward(logits_, head_in_, w.head, n, d, cfg_.vocab);
}

template <class T>
LossSum Llama<T>::loss(const int32_t* targets, int64_t b, int64_t t) {
  const int64_t n = b * t;
  LossSum out;
  out.nll_sum = ops::cross_entropy_forward(row_nll_.data(), lse_, logits_, targets, n, cfg_.vocab);
  for (int64_t i = 0; i < n; ++i) out.count += targets[i] != ops::kIgnoreIndex;
  return out;
}

template void Llama<float>::forward(const LlamaWeights<float>&, const int32_t*, int64_t, int64_t,
                                    ForwardTap<float>*);
template void Llama<double>::forward(const LlamaWeights<double>&, const int32_t*, int64_t, int64_t,
                                     ForwardTap<double>*);
template LossSum Llama<float>::loss(const int32_t*, int64_t, int64_t);
template LossSum Llama<double>::loss(const int32_t*, int64_t, int64_t);

}  // namespace osp::model
