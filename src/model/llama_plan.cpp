// The activation plan: one arena holds every buffer of a forward (and backward) pass, sized from
// (config, batch, sequence, mode, precision); nothing is allocated inside a step. In inference
// mode all layers share one set of buffers and the residual stream is updated in place. Also the
// small helpers forward and backward share (weight and gradient views, the bf16 weight copy).
#include <algorithm>
#include <type_traits>
#include <utility>

#include "model/llama.h"
#include "ops/attention.h"
#include "ops/elementwise.h"

namespace osp::model {

template <class T>
Llama<T>::Llama(ops::Context& ctx, const ModelConfig& config, int64_t max_batch, int64_t max_seq, ForwardMode mode,
                Precision precision)
    : ctx_(ctx), cfg_(config), mode_(mode), precision_(precision),
      act_dtype_(precision == Precision::kBF16 ? DType::kBF16 : dtype_of<T>()), max_batch_(max_batch),
      max_seq_(max_seq), rope_(ops::make_rope_table(max_seq, config.head_dim(), config.rope_theta)) {
  OSP_CHECK(max_batch > 0 && max_seq > 0, "empty activation plan");
  OSP_CHECK(precision == Precision::kF32 || (std::is_same_v<T, float>), "bf16 mixed precision needs fp32 masters");
  plan(max_batch, max_seq);
  if (precision == Precision::kBF16) weights_bf16_ = Tensor(DType::kBF16, {ParamTable(config).total_elems()});
}

template <class T>
void Llama<T>::plan(int64_t max_batch, int64_t max_seq) {
  const int64_t n = max_batch * max_seq, d = cfg_.hidden, f = cfg_.ffn, v = cfg_.vocab;
  const int64_t qd = cfg_.heads * cfg_.head_dim(), kvd = cfg_.kv_heads * cfg_.head_dim();
  const bool train = mode_ == ForwardMode::kTrain, bf16 = precision_ == Precision::kBF16;
  const DType t = dtype_of<T>(), c = act_dtype_;
  struct Request {
    TensorView* slot;
    DType dtype;
    int64_t rows, cols;
  };
  std::vector<Request> requests;
  auto want = [&](TensorView* slot, DType dtype, int64_t rows, int64_t cols) {
    requests.push_back({slot, dtype, rows, cols});
  };

  layers_.assign(size_t(cfg_.layers), LayerActs{});
  // Training keeps every layer's activations; inference computes them into layer 0's buffers.
  for (int64_t l = 0; l < (train ? cfg_.layers : 1); ++l) {
    LayerActs& a = layers_[size_t(l)];
    want(&a.resid_in, t, n, d);
    if (train) want(&a.resid_mid, t, n, d);
    want(&a.norm1, c, n, d);
    want(&a.rstd1, t, n, 1);
    want(&a.q, t, n, qd);
    want(&a.k, t, n, kvd);
    want(&a.v, t, n, kvd);
    if (train) want(&a.probs, t, max_batch * cfg_.heads * max_seq, max_seq);
    want(&a.att, c, n, qd);
    if (train) want(&a.norm2, c, n, d);
    want(&a.rstd2, t, n, 1);
    want(&a.gate, t, n, f);
    want(&a.up, t, n, f);
    want(&a.act, c, n, f);
  }
  if (train) want(&resid_out_, t, n, d);
  if (cfg_.emb_proj) want(&emb_, c, n, d);
  want(&norm_f_, c, n, d);
  want(&rstd_f_, t, n, 1);
  if (cfg_.emb_proj) want(&head_in_, c, n, d);
  if (cfg_.emb_proj && bf16) want(&head_f32_, t, n, d);
  want(&logits_, t, n, v);
  want(&lse_, t, n, 1);
  want(&workspace_, t, ops::attention_workspace_elems(ctx_, {max_batch, max_seq, cfg_.heads, cfg_.kv_heads,
                                                              cfg_.head_dim()}), 1);
  if (train) {
    for (TensorView* slot : {&d_resid_, &d_a_, &d_b_}) want(slot, t, n, d);
    want(&d_q_, t, n, qd);
    want(&d_k_, t, n, kvd);
    want(&d_v_, t, n, kvd);
    for (TensorView* slot : {&d_gate_, &d_up_, &d_act_}) want(slot, t, n, f);
    // One GEMM's dy at a time; the head's (N, V) dy goes through it in row blocks of at least one row.
    if (bf16) want(&dy_bf16_, DType::kBF16, 1, std::max(n * std::max({f, qd, d}), v));
  }

  // Every buffer starts on a 64-byte boundary.
  auto padded = [](const Request& r) { return (r.rows * r.cols * int64_t(dtype_size(r.dtype)) + 63) / 64 * 64; };
  int64_t total = 0;
  for (const auto& r : requests) total += padded(r);
  arena_ = AlignedBuffer<std::byte>(total);
  arena_bytes_ = total;
  int64_t offset = 0;
  for (const auto& r : requests) {
    *r.slot = TensorView(arena_.data() + offset, r.dtype, {r.rows, r.cols}, ctx_.device());
    offset += padded(r);
  }
  if (!train) {
    LayerActs& a = layers_[0];
    a.resid_mid = a.resid_in;  // in place: the residual adds accumulate into one buffer
    a.norm2 = a.norm1;
    for (auto& other : layers_) other = a;
    resid_out_ = a.resid_in;
  }
  if (!cfg_.emb_proj) head_in_ = norm_f_;
  row_nll_.assign(size_t(n), 0.0);
}

template <class T>
void Llama<T>::cast_weights(const LlamaWeights<T>& w) {
  if (precision_ == Precision::kF32) return;
  const int64_t total = weights_bf16_.numel();
  ops::cast(ctx_, weights_bf16_.view(), TensorView::of(w.base, {total}));
  cast_from_ = w.base;
}

template <class T>
TensorView Llama<T>::weight(const LlamaWeights<T>& w, const T* p, int64_t rows, int64_t cols) const {
  if (precision_ == Precision::kF32) return TensorView::of(p, {rows, cols});
  OSP_CHECK(cast_from_ == w.base, "a bf16 model needs cast_weights() of these weights before forward");
  return TensorView::of(weights_bf16_.template data<BFloat16>() + (p - w.base), {rows, cols});
}

template <class T>
TensorView Llama<T>::gain(const T* p) const {
  if (cfg_.single_scale()) return TensorView::of(p, std::span<const int64_t>());
  return TensorView::of(p, {cfg_.hidden});
}

template <class T>
TensorView Llama<T>::gemm_grad(TensorView dy) {
  if (precision_ == Precision::kF32) return dy;
  TensorView h = dy_bf16_.prefix({dy.rows(), dy.cols()});
  ops::cast(ctx_, h, dy);
  return h;
}

template <class T>
void Llama<T>::check_tap(const ForwardTap* tap) const {
  OSP_CHECK(tap == nullptr || tap->device() == ctx_.device(), "a tap for {} on a model on {}",
            device_name(tap->device()), device_name(ctx_.device()));
}

template class Llama<float>;
template class Llama<double>;

}  // namespace osp::model
