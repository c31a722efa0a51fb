// The KV cache: per-layer key/value rows, the RoPE angles of every cached position, the scratch.
#include "model/kv_cache.h"

#include <algorithm>

#include "ops/attention.h"

namespace osp::model {

template <class T>
KvCache<T>::KvCache(ops::Context& ctx, const ModelConfig& config, int64_t capacity)
    : cfg_(config), capacity_(capacity),
      rope_(ops::make_rope_table(capacity, config.head_dim(), config.rope_theta)) {
  OSP_CHECK(capacity >= 1, "a KV cache of {} positions", capacity);
  const int64_t kvd = config.kv_heads * config.head_dim();
  k_ = Tensor(dtype_of<T>(), {config.layers * capacity, kvd}, ctx.device());
  v_ = Tensor(dtype_of<T>(), {config.layers * capacity, kvd}, ctx.device());
  // The largest step: a row block of min(capacity, 64) queries over all capacity keys.
  const int64_t block = std::min<int64_t>(capacity, 64);
  const ops::AttentionShape widest{1, block, config.heads, config.kv_heads, config.head_dim(), capacity - block};
  workspace_ = Tensor(dtype_of<T>(), {ops::attention_workspace_elems(ctx, widest)}, ctx.device());
  window_.half = rope_.half;
  window_.cos.reserve(rope_.cos.size());
  window_.sin.reserve(rope_.sin.size());
}

template <class T>
TensorView KvCache<T>::keys(int64_t layer) const {
  OSP_CHECK(layer >= 0 && layer < cfg_.layers, "layer {} of {}", layer, cfg_.layers);
  return k_.view().row_block(layer * capacity_, capacity_);
}

template <class T>
TensorView KvCache<T>::values(int64_t layer) const {
  OSP_CHECK(layer >= 0 && layer < cfg_.layers, "layer {} of {}", layer, cfg_.layers);
  return v_.view().row_block(layer * capacity_, capacity_);
}

template <class T>
const ops::RopeTable& KvCache<T>::rope_window(int64_t t) {
  OSP_CHECK(t >= 1 && length_ + t <= capacity_, "{} new positions after {} exceed the cache's {}", t, length_,
            capacity_);
  const int64_t from = length_ * rope_.half, to = from + t * rope_.half;
  window_.max_positions = t;
  window_.cos.assign(rope_.cos.begin() + from, rope_.cos.begin() + to);
  window_.sin.assign(rope_.sin.begin() + from, rope_.sin.begin() + to);
  return window_;
}

template class KvCache<float>;
template class KvCache<double>;

}  // namespace osp::model
