// The key/value cache of incremental decoding (Llama::forward_cached): for one sequence, every
// layer's keys (after RoPE) and values for positions 0..length−1, up to a fixed capacity, exactly
// as attention reads them — after the forward tap, so KV fake quantization applies to what enters
// the cache. Also the RoPE angles of those positions and the attention scratch of a step.
//
//   KvCache<float> cache(ctx, config, prompt_len + max_new);
//   model.forward_cached(w, prompt, prompt_len, cache);      // prefill: cache.length() = prompt_len
//   model.forward_cached(w, &next, 1, cache);                // one decoding step
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "model/config.h"
#include "ops/context.h"
#include "ops/rope.h"

namespace osp::model {

template <class T>
class Llama;

template <class T>
class KvCache {
 public:
  // capacity: positions the cache can hold (prompt + generated tokens).
  KvCache(ops::Context& ctx, const ModelConfig& config, int64_t capacity);

  int64_t length() const { return length_; }  // positions held
  int64_t capacity() const { return capacity_; }
  void clear() { length_ = 0; }
  // Layer l's rows, (capacity, Hkv·Dh) in T; rows length().. are not yet meaningful.
  TensorView keys(int64_t layer) const;
  TensorView values(int64_t layer) const;
  int64_t bytes() const { return k_.bytes() + v_.bytes() + workspace_.bytes(); }

 private:
  friend class Llama<T>;
  // The angles of positions length()..length()+t−1 as rows 0..t−1 of a table (rope_forward reads
  // row r as position r mod t).
  const ops::RopeTable& rope_window(int64_t t);

  ModelConfig cfg_;
  int64_t capacity_ = 0, length_ = 0;
  Tensor k_, v_;          // (L·capacity, Hkv·Dh) T each
  ops::RopeTable rope_;   // positions 0..capacity−1
  ops::RopeTable window_; // reused by rope_window
  Tensor workspace_;      // attention scratch for any step of up to capacity positions
};

}  // namespace osp::model
