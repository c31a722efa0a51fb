// The backward pass: the forward of llama_forward.cpp in reverse, op by op. d_resid_ carries
// ∂loss/∂(residual stream) down the layers; d_a_/d_b_ are (N, D) scratch.
#include <algorithm>

#include "model/llama.h"
#include "ops/attention.h"
#include "ops/cross_entropy.h"
#include "ops/embedding.h"
#include "ops/matmul.h"
#include "ops/rmsnorm.h"
#include "ops/swiglu.h"

namespace osp::model {

template <class T>
void Llama<T>::backward(const LlamaWeights<T>& w, const LlamaWeights<T>& g, const int32_t* tokens,
                        const int32_t* targets, int64_t b, int64_t t, T loss_scale) {
  OSP_CHECK(mode_ == ForwardMode::kTrain, "backward needs a model planned for training");
  const int64_t n = b * t, d = cfg_.hidden, f = cfg_.ffn, dh = cfg_.head_dim(), v = cfg_.vocab;
  const int64_t qd = cfg_.heads * dh, kvd = cfg_.kv_heads * dh;
  const bool ss = cfg_.single_scale();
  const ops::AttentionShape shape{b, t, cfg_.heads, cfg_.kv_heads, dh};

  // Loss → logits (in place) → head (tied: g.head == g.embed, so both gradients add up).
  ops::cross_entropy_backward(logits_, logits_, lse_, targets, n, v, loss_scale);
  ops::matmul_backward(d_a_, g.head, logits_, head_in_, w.head, n, d, v);
  T* d_norm_f = d_a_;
  if (cfg_.emb_proj) {
    ops::matmul_backward(d_b_, g.head_proj, d_a_, norm_f_, w.head_proj, n, d, d);
    d_norm_f = d_b_;
  }
  std::fill(d_resid_, d_resid_ + n * d, T(0));
  ops::rmsnorm_backward(d_resid_, g.final_norm, d_norm_f, resid_out_, rstd_f_, w.final_norm, n, d, ss);

  for (int64_t l = cfg_.layers - 1; l >= 0; --l) {
    const LayerWeights<T>& lw = w.layers[size_t(l)];
    const LayerWeights<T>& lg = g.layers[size_t(l)];
    const LayerActs& a = layers_[size_t(l)];

    // FFN: d_resid_ is ∂/∂(layer output); the residual path passes it through unchanged.
    ops::matmul_backward(d_act_, lg.down, d_resid_, a.act, lw.down, n, f, d);
    ops::swiglu_backward(d_gate_, d_up_, d_act_, a.gate, a.up, n * f);
    ops::matmul_backward(d_a_, lg.gate, d_gate_, a.norm2, lw.gate, n, d, f);
    ops::matmul_backward(d_a_, lg.up, d_up_, a.norm2, lw.up, n, d, f, /*accumulate_dx=*/true);
    ops::rmsnorm_backward(d_resid_, lg.post_attn_norm, d_a_, a.resid_mid, a.rstd2,
                          lw.post_attn_norm, n, d, ss);

    // Attention: d_resid_ is now ∂/∂(mid).
    ops::matmul_backward(d_b_, lg.o, d_resid_, a.att, lw.o, n, qd, d);
    ops::attention_backward(d_q_, d_k_, d_v_, d_b_, a.att, a.probs, a.q, a.k, a.v, workspace_, shape);
    ops::rope_backward(d_q_, rope_, b, t, cfg_.heads);
    ops::rope_backward(d_k_, rope_, b, t, cfg_.kv_heads);
    ops::matmul_backward(d_a_, lg.q, d_q_, a.norm1, lw.q, n, d, qd);
    ops::matmul_backward(d_a_, lg.k, d_k_, a.norm1, lw.k, n, d, kvd, /*accumulate_dx=*/true);
    ops::matmul_backward(d_a_, lg.v, d_v_, a.norm1, lw.v, n, d, kvd, /*accumulate_dx=*/true);
    ops::rmsnorm_backward(d_resid_, lg.input_norm, d_a_, a.resid_in, a.rstd1, lw.input_norm, n, d, ss);
  }

  // Embedding (and R1): d_resid_ is ∂/∂(embedding output).
  if (cfg_.emb_proj) {
    ops::matmul_backward(d_a_, g.emb_proj, d_resid_, emb_, w.emb_proj, n, d, d);
    ops::embedding_backward(g.embed, d_a_, tokens, n, d);
  } else {
    ops::embedding_backward(g.embed, d_resid_, tokens, n, d);
  }
}

template void Llama<float>::backward(const LlamaWeights<float>&, const LlamaWeights<float>&,
                                     const int32_t*, const int32_t*, int64_t, int64_t, float);
template void Llama<double>::backward(const LlamaWeights<double>&, const LlamaWeights<double>&,
                                      const int32_t*, const int32_t*, int64_t, int64_t, double);

}  // namespace osp::model
