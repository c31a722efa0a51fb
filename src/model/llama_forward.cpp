// The forward pass (osp-method.md §1.2), also over a KV cache (incremental decoding), and the
// loss (§1.8).
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
void Llama<T>::forward(const LlamaWeights<T>& w, const int32_t* tokens, int64_t b, int64_t t, ForwardTap* tap) {
  run_forward(w, tokens, b, t, tap, nullptr, CachedLogits::kAll);
}

template <class T>
void Llama<T>::forward_cached(const LlamaWeights<T>& w, const int32_t* tokens, int64_t t, KvCache<T>& cache,
                              ForwardTap* tap, CachedLogits logits) {
  OSP_CHECK(mode_ == ForwardMode::kInference, "forward_cached needs a model planned for inference");
  OSP_CHECK(cache.cfg_.layers == cfg_.layers && cache.cfg_.kv_heads == cfg_.kv_heads &&
                cache.cfg_.head_dim() == cfg_.head_dim(), "a KV cache made for another model");
  OSP_CHECK(tap == nullptr || tap->layers_needed() >= cfg_.layers, "a cached forward runs every layer");
  run_forward(w, tokens, 1, t, tap, &cache, logits);
  cache.length_ += t;
}

template <class T>
void Llama<T>::run_forward(const LlamaWeights<T>& w, const int32_t* tokens, int64_t b, int64_t t, ForwardTap* tap,
                           KvCache<T>* cache, CachedLogits logits) {
  OSP_CHECK(b >= 1 && b <= max_batch_ && t >= 1 && t <= max_seq_, "batch {}x{} exceeds the planned {}x{}", b, t,
            max_batch_, max_seq_);
  check_tap(tap);
  const int64_t n = b * t, d = cfg_.hidden, f = cfg_.ffn, dh = cfg_.head_dim(), vocab = cfg_.vocab;
  const int64_t qd = cfg_.heads * dh, kvd = cfg_.kv_heads * dh;
  const float eps = float(cfg_.norm_eps);
  ops::Context& ctx = ctx_;
  auto rows = [n](const TensorView& v, int64_t cols) { return v.prefix({n, cols}); };
  const TensorView tok = TensorView::of(tokens, {n});
  // With a cache, the new rows' keys and values go straight into it at rows past..past+t−1, RoPE
  // turns them by their absolute positions, and attention reads all past+t cached rows.
  const int64_t past = cache != nullptr ? cache->length() : 0;
  const ops::RopeTable& rope = cache != nullptr ? cache->rope_window(t) : rope_;
  const TensorView workspace = cache != nullptr ? cache->workspace_.view() : workspace_;
  const ops::AttentionShape shape{b, t, cfg_.heads, cfg_.kv_heads, dh, past};

  // Embedding, then R1 (x = E[t] · R1ᵀ).
  TensorView x = rows(layers_[0].resid_in, d);
  const TensorView embed = TensorView::of(w.embed, {vocab, d});
  if (cfg_.emb_proj) {
    ops::embedding_forward(ctx, rows(emb_, d), tok, embed);
    ops::matmul_forward(ctx, x, rows(emb_, d), weight(w, w.emb_proj, d, d));
  } else {
    ops::embedding_forward(ctx, x, tok, embed);
  }
  if (tap != nullptr) tap->hidden_state(ctx, 0, x);

  const int64_t layers = tap != nullptr ? std::min(cfg_.layers, tap->layers_needed()) : cfg_.layers;
  for (int64_t l = 0; l < layers; ++l) {
    const LayerWeights<T>& lw = w.layers[size_t(l)];
    const LayerActs& a = layers_[size_t(l)];
    const TensorView in = rows(a.resid_in, d), mid = rows(a.resid_mid, d);
    const TensorView next = rows(l + 1 < cfg_.layers ? layers_[size_t(l + 1)].resid_in : resid_out_, d);
    const TensorView norm1 = rows(a.norm1, d), norm2 = rows(a.norm2, d), att = rows(a.att, qd), act = rows(a.act, f);
    const TensorView q = rows(a.q, qd);
    const TensorView k_all = cache != nullptr ? cache->keys(l).row_block(0, past + t) : rows(a.k, kvd);
    const TensorView v_all = cache != nullptr ? cache->values(l).row_block(0, past + t) : rows(a.v, kvd);
    const TensorView k = cache != nullptr ? k_all.row_block(past, t) : k_all;  // this call's rows
    const TensorView v = cache != nullptr ? v_all.row_block(past, t) : v_all;
    const TensorView gate = rows(a.gate, f), up = rows(a.up, f);
    const int li = int(l);

    // Attention sub-layer: mid = x + Attn(Norm(x)).
    ops::rmsnorm_forward(ctx, norm1, rows(a.rstd1, 1), in, gain(lw.input_norm), eps);
    if (tap != nullptr) tap->linear_input(ctx, LinearInput::kQkv, li, norm1);
    ops::matmul_forward(ctx, q, norm1, weight(w, lw.q, qd, d));
    ops::matmul_forward(ctx, k, norm1, weight(w, lw.k, kvd, d));
    ops::matmul_forward(ctx, v, norm1, weight(w, lw.v, kvd, d));
    if (tap != nullptr) tap->value(ctx, li, v);
    ops::rope_forward(ctx, q, rope, t);
    ops::rope_forward(ctx, k, rope, t);
    if (tap != nullptr) tap->query_key(ctx, li, q, k);
    const TensorView probs = a.probs.empty() ? TensorView() : a.probs.prefix({b * cfg_.heads * t, t});
    ops::attention_forward(ctx, att, probs, q, k_all, v_all, workspace, shape);
    if (tap != nullptr) tap->linear_input(ctx, LinearInput::kAttnOut, li, att);
    if (mid.raw() != in.raw()) ops::copy(ctx, mid, in);
    ops::matmul_forward(ctx, mid, att, weight(w, lw.o, d, qd), /*accumulate=*/true);

    // FFN sub-layer: next = mid + Down(silu(Gate(h)) · Up(h)), h = Norm(mid).
    ops::rmsnorm_forward(ctx, norm2, rows(a.rstd2, 1), mid, gain(lw.post_attn_norm), eps);
    if (tap != nullptr) tap->linear_input(ctx, LinearInput::kGateUp, li, norm2);
    ops::matmul_forward(ctx, gate, norm2, weight(w, lw.gate, f, d));
    ops::matmul_forward(ctx, up, norm2, weight(w, lw.up, f, d));
    ops::swiglu_forward(ctx, act, gate, up);
    if (tap != nullptr) tap->linear_input(ctx, LinearInput::kDown, li, act);
    if (next.raw() != mid.raw()) ops::copy(ctx, next, mid);
    ops::matmul_forward(ctx, next, act, weight(w, lw.down, d, f), /*accumulate=*/true);
    if (tap != nullptr && l + 1 < cfg_.layers) tap->hidden_state(ctx, li + 1, next);
  }
  if (layers < cfg_.layers) return;  // the tap has seen all it needs
  run_head(w, n, logits == CachedLogits::kLast ? 1 : n, tap);
}

// Final norm, R2, head on the last head_rows of the n rows of the residual stream; their logits
// land in rows 0..head_rows−1.
template <class T>
void Llama<T>::run_head(const LlamaWeights<T>& w, int64_t n, int64_t head_rows, ForwardTap* tap) {
  const int64_t d = cfg_.hidden, vocab = cfg_.vocab;
  ops::Context& ctx = ctx_;
  auto rows = [head_rows](const TensorView& v, int64_t cols) { return v.prefix({head_rows, cols}); };
  const TensorView resid = resid_out_.prefix({n, d}).row_block(n - head_rows, head_rows);
  const TensorView norm_f = rows(norm_f_, d), head_in = rows(head_in_, d);
  ops::rmsnorm_forward(ctx, norm_f, rows(rstd_f_, 1), resid, gain(w.final_norm), float(cfg_.norm_eps));
  if (tap != nullptr) {
    tap->hidden_state(ctx, int(cfg_.layers), norm_f);
    tap->linear_input(ctx, LinearInput::kHead, -1, norm_f);
  }
  if (cfg_.emb_proj) {
    if (head_f32_.empty()) {
      ops::matmul_forward(ctx, head_in, norm_f, weight(w, w.head_proj, d, d));
    } else {  // bf16: the product in fp32, rounded once for the head GEMM
      ops::matmul_forward(ctx, rows(head_f32_, d), norm_f, weight(w, w.head_proj, d, d));
      ops::cast(ctx, head_in, rows(head_f32_, d));
    }
  }
  ops::matmul_forward(ctx, rows(logits_, vocab), head_in, weight(w, w.head, vocab, d));
}

template <class T>
LossSum Llama<T>::loss(const int32_t* targets, int64_t b, int64_t t) {
  const int64_t n = b * t;
  LossSum out;
  out.nll_sum = ops::cross_entropy_forward(ctx_, TensorView::of(row_nll_.data(), {n}), lse_.prefix({n}),
                                           logits_.prefix({n, cfg_.vocab}), TensorView::of(targets, {n}));
  for (int64_t i = 0; i < n; ++i) out.count += targets[i] != ops::kIgnoreIndex;
  return out;
}

template void Llama<float>::forward(const LlamaWeights<float>&, const int32_t*, int64_t, int64_t, ForwardTap*);
template void Llama<double>::forward(const LlamaWeights<double>&, const int32_t*, int64_t, int64_t, ForwardTap*);
template void Llama<float>::forward_cached(const LlamaWeights<float>&, const int32_t*, int64_t, KvCache<float>&,
                                           ForwardTap*, CachedLogits);
template void Llama<double>::forward_cached(const LlamaWeights<double>&, const int32_t*, int64_t, KvCache<double>&,
                                            ForwardTap*, CachedLogits);
template LossSum Llama<float>::loss(const int32_t*, int64_t, int64_t);
template LossSum Llama<double>::loss(const int32_t*, int64_t, int64_t);

}  // namespace osp::model
