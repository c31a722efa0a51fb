// The backward pass: the forward of llama_forward.cpp in reverse, op by op. d_resid_ carries
// ∂loss/∂(residual stream) down the layers; d_a_/d_b_ are (N, D) scratch. Under bf16 every
// weight-gradient GEMM reads a bf16 copy of its dy (gemm_grad) and adds into the fp32 gradients.
#include <algorithm>

#include "model/llama.h"
#include "ops/attention.h"
#include "ops/cross_entropy.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/matmul.h"
#include "ops/rmsnorm.h"
#include "ops/swiglu.h"

namespace osp::model {

template <class T>
void Llama<T>::backward(const LlamaWeights<T>& w, const LlamaWeights<T>& g, const int32_t* tokens,
                        const int32_t* targets, int64_t b, int64_t t, double loss_scale) {
  OSP_CHECK(mode_ == ForwardMode::kTrain, "backward needs a model planned for training");
  const int64_t n = b * t, d = cfg_.hidden, f = cfg_.ffn, dh = cfg_.head_dim(), vocab = cfg_.vocab;
  const int64_t qd = cfg_.heads * dh, kvd = cfg_.kv_heads * dh;
  const ops::AttentionShape shape{b, t, cfg_.heads, cfg_.kv_heads, dh};
  ops::Context& ctx = ctx_;
  auto rows = [n](const TensorView& v, int64_t cols) { return v.prefix({n, cols}); };
  auto grad = [](T* p, int64_t r, int64_t c) { return TensorView::of(p, {r, c}); };
  const TensorView d_resid = rows(d_resid_, d), d_a = rows(d_a_, d), d_b = rows(d_b_, d);
  const TensorView d_q = rows(d_q_, qd), d_k = rows(d_k_, kvd), d_v = rows(d_v_, kvd);
  const TensorView d_gate = rows(d_gate_, f), d_up = rows(d_up_, f), d_act = rows(d_act_, f);

  // Loss → logits (in place) → head (tied: g.head == g.embed, so both gradients add up).
  const TensorView logits = rows(logits_, vocab), tg = TensorView::of(targets, {n});
  ops::cross_entropy_backward(ctx, logits, logits, lse_.prefix({n}), tg, loss_scale);
  if (precision_ == Precision::kF32) {
    ops::matmul_backward(ctx, d_a, grad(g.head, vocab, d), logits, rows(head_in_, d), weight(w, w.head, vocab, d));
  } else {
    // bf16: in row blocks, so that the bf16 copy of dlogits needs no (N, V) buffer of its own.
    const int64_t block = std::max<int64_t>(1, dy_bf16_.numel() / vocab);
    for (int64_t r0 = 0; r0 < n; r0 += block) {
      const int64_t nr = std::min(block, n - r0);
      ops::matmul_backward(ctx, d_a.row_block(r0, nr), grad(g.head, vocab, d), gemm_grad(logits.row_block(r0, nr)),
                           rows(head_in_, d).row_block(r0, nr), weight(w, w.head, vocab, d));
    }
  }
  TensorView d_norm_f = d_a;
  if (cfg_.emb_proj) {
    ops::matmul_backward(ctx, d_b, grad(g.head_proj, d, d), gemm_grad(d_a), rows(norm_f_, d),
                         weight(w, w.head_proj, d, d));
    d_norm_f = d_b;
  }
  ops::zero(ctx, d_resid);
  ops::rmsnorm_backward(ctx, d_resid, TensorView::of(g.final_norm, gain(w.final_norm).shape()), d_norm_f,
                        rows(resid_out_, d), rows(rstd_f_, 1), gain(w.final_norm));

  for (int64_t l = cfg_.layers - 1; l >= 0; --l) {
    const LayerWeights<T>& lw = w.layers[size_t(l)];
    const LayerWeights<T>& lg = g.layers[size_t(l)];
    const LayerActs& a = layers_[size_t(l)];
    const TensorView norm1 = rows(a.norm1, d), norm2 = rows(a.norm2, d);
    const TensorView q = rows(a.q, qd), k = rows(a.k, kvd), v = rows(a.v, kvd);
    const auto dgain = [&](T* p) { return TensorView::of(p, gain(lw.input_norm).shape()); };

    // FFN: d_resid is ∂/∂(layer output); the residual path passes it through unchanged.
    ops::matmul_backward(ctx, d_act, grad(lg.down, d, f), gemm_grad(d_resid), rows(a.act, f), weight(w, lw.down, d, f));
    ops::swiglu_backward(ctx, d_gate, d_up, d_act, rows(a.gate, f), rows(a.up, f));
    ops::matmul_backward(ctx, d_a, grad(lg.gate, f, d), gemm_grad(d_gate), norm2, weight(w, lw.gate, f, d));
    ops::matmul_backward(ctx, d_a, grad(lg.up, f, d), gemm_grad(d_up), norm2, weight(w, lw.up, f, d),
                         /*accumulate_dx=*/true);
    ops::rmsnorm_backward(ctx, d_resid, dgain(lg.post_attn_norm), d_a, rows(a.resid_mid, d), rows(a.rstd2, 1),
                          gain(lw.post_attn_norm));

    // Attention: d_resid is now ∂/∂(mid).
    ops::matmul_backward(ctx, d_b, grad(lg.o, d, qd), gemm_grad(d_resid), rows(a.att, qd), weight(w, lw.o, d, qd));
    ops::attention_backward(ctx, d_q, d_k, d_v, d_b,  // qd = H·Dh = D
                            a.probs.prefix({b * cfg_.heads * t, t}), q, k, v, workspace_, shape);
    ops::rope_backward(ctx, d_q, rope_, t);
    ops::rope_backward(ctx, d_k, rope_, t);
    ops::matmul_backward(ctx, d_a, grad(lg.q, qd, d), gemm_grad(d_q), norm1, weight(w, lw.q, qd, d));
    ops::matmul_backward(ctx, d_a, grad(lg.k, kvd, d), gemm_grad(d_k), norm1, weight(w, lw.k, kvd, d),
                         /*accumulate_dx=*/true);
    ops::matmul_backward(ctx, d_a, grad(lg.v, kvd, d), gemm_grad(d_v), norm1, weight(w, lw.v, kvd, d),
                         /*accumulate_dx=*/true);
    ops::rmsnorm_backward(ctx, d_resid, dgain(lg.input_norm), d_a, rows(a.resid_in, d), rows(a.rstd1, 1),
                          gain(lw.input_norm));
  }

  // Embedding (and R1): d_resid is ∂/∂(embedding output).
  const TensorView dembed = grad(g.embed, vocab, d), tok = TensorView::of(tokens, {n});
  if (cfg_.emb_proj) {
    ops::matmul_backward(ctx, d_a, grad(g.emb_proj, d, d), gemm_grad(d_resid), rows(emb_, d),
                         weight(w, w.emb_proj, d, d));
    ops::embedding_backward(ctx, dembed, d_a, tok);
  } else {
    ops::embedding_backward(ctx, dembed, d_resid, tok);
  }
}

template void Llama<float>::backward(const LlamaWeights<float>&, const LlamaWeights<float>&, const int32_t*,
                                     const int32_t*, int64_t, int64_t, double);
template void Llama<double>::backward(const LlamaWeights<double>&, const LlamaWeights<double>&, const int32_t*,
                                      const int32_t*, int64_t, int64_t, double);

}  // namespace osp::model
