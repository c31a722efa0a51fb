// The activation plan: one arena holds every buffer of a forward (and backward) pass, sized from
// (config, batch, sequence, mode); nothing is allocated inside a step. In inference mode all
// layers share one set of buffers and the residual stream is updated in place.
#include <utility>

#include "model/llama.h"
#include "ops/attention.h"

namespace osp::model {

template <class T>
Llama<T>::Llama(const ModelConfig& config, int64_t max_batch, int64_t max_seq, ForwardMode mode)
    : cfg_(config), mode_(mode), max_batch_(max_batch), max_seq_(max_seq),
      rope_(ops::make_rope_table(max_seq, config.head_dim(), config.rope_theta)) {
  OSP_CHECK(max_batch > 0 && max_seq > 0, "empty activation plan");
  plan(max_batch, max_seq);
}

template <class T>
void Llama<T>::plan(int64_t max_batch, int64_t max_seq) {
  const int64_t n = max_batch * max_seq, d = cfg_.hidden, f = cfg_.ffn;
  const int64_t qd = cfg_.heads * cfg_.head_dim(), kvd = cfg_.kv_heads * cfg_.head_dim();
  const bool train = mode_ == ForwardMode::kTrain;
  std::vector<std::pair<T**, int64_t>> requests;
  auto want = [&](T** slot, int64_t elems) { requests.emplace_back(slot, elems); };

  layers_.assign(size_t(cfg_.layers), LayerActs{});
  // Training keeps every layer's activations; inference computes them into layer 0's buffers.
  for (int64_t l = 0; l < (train ? cfg_.layers : 1); ++l) {
    LayerActs& a = layers_[size_t(l)];
    want(&a.resid_in, n * d);
    if (train) want(&a.resid_mid, n * d);
    want(&a.norm1, n * d);
    want(&a.rstd1, n);
    want(&a.q, n * qd);
    want(&a.k, n * kvd);
    want(&a.v, n * kvd);
    if (train) want(&a.probs, max_batch * cfg_.heads * max_seq * max_seq);
    want(&a.att, n * qd);
    if (train) want(&a.norm2, n * d);
    want(&a.rstd2, n);
    want(&a.gate, n * f);
    want(&a.up, n * f);
    want(&a.act, n * f);
  }
  if (train) want(&resid_out_, n * d);
  if (cfg_.emb_proj) want(&emb_, n * d);
  want(&norm_f_, n * d);
  want(&rstd_f_, n);
  if (cfg_.emb_proj) want(&head_in_, n * d);
  want(&logits_, n * cfg_.vocab);
  want(&lse_, n);
  want(&workspace_, ops::attention_workspace_elems({max_batch, max_seq, cfg_.heads, cfg_.kv_heads,
                                                    cfg_.head_dim()}));
  if (train) {
    for (T** slot : {&d_resid_, &d_a_, &d_b_}) want(slot, n * d);
    want(&d_q_, n * qd);
    want(&d_k_, n * kvd);
    want(&d_v_, n * kvd);
    for (T** slot : {&d_gate_, &d_up_, &d_act_}) want(slot, n * f);
  }

  int64_t total = 0;
  for (auto& r : requests) total += (r.second + 15) / 16 * 16;
  arena_ = AlignedBuffer<T>(total);
  int64_t offset = 0;
  for (auto& r : requests) {
    *r.first = arena_.data() + offset;
    offset += (r.second + 15) / 16 * 16;
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

template class Llama<float>;
template class Llama<double>;

}  // namespace osp::model
