// The Llama/OSP decoder: forward (training, saving what backward needs; or inference, reusing one
// set of buffers), loss, and an explicit backward pass (osp-method.md §1), all through ops on the
// context's device.
//
//   Llama<float> model(ctx, config, max_batch, max_seq, ForwardMode::kTrain, Precision::kBF16);
//   model.cast_weights(weights);                          // bf16: after every change of the weights
//   model.forward(weights, tokens, b, t);                 // logits() now holds (b·t, V)
//   auto [nll_sum, count] = model.loss(targets, b, t);
//   model.backward(weights, grads, tokens, targets, b, t, 1.0 / count);   // grads +=
//
// Incremental decoding (kInference): forward_cached runs the next tokens of one sequence against
// a KvCache (model/kv_cache.h) through the same layer code as forward.
//
// T is the type of the weights, gradients and fp32-side activations (float; double for gradient
// checks). Precision::kBF16 (T = float only) is mixed precision (docs/engine.md): every GEMM reads
// bf16 operands — bf16 copies of the weights, made by cast_weights once per optimizer step, and
// the GEMM-input activations, stored in bf16 — and accumulates in fp32; norm statistics, RoPE,
// softmax, the loss, the residual stream and every gradient stay in T.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"
#include "model/forward_tap.h"
#include "model/kv_cache.h"
#include "model/params.h"
#include "ops/context.h"
#include "ops/rope.h"

namespace osp::model {

enum class ForwardMode { kTrain, kInference };

// Which rows of a cached forward reach the head: every new token's, or only the last (generation
// needs the next-token distribution only; the final norm and the head then run on one row).
enum class CachedLogits { kAll, kLast };

struct LossSum {
  double nll_sum = 0;   // Σ NLL over counted targets
  int64_t count = 0;    // targets that are not the ignore index
};

template <class T>
class Llama {
 public:
  // Plans every activation buffer for up to max_batch sequences of up to max_seq tokens.
  Llama(ops::Context& ctx, const ModelConfig& config, int64_t max_batch, int64_t max_seq, ForwardMode mode,
        Precision precision = Precision::kF32);

  // bf16: rounds every parameter of w into the model's bf16 copy, which the GEMMs of forward and
  // backward read until the next call. fp32: nothing to do.
  void cast_weights(const LlamaWeights<T>& w);
  // tokens (b, t) → logits (b·t, V). A tap, when given, observes or transforms (see forward_tap.h).
  void forward(const LlamaWeights<T>& w, const int32_t* tokens, int64_t b, int64_t t, ForwardTap* tap = nullptr);
  // Incremental inference (kInference, one sequence): tokens (t) at positions cache.length() ..
  // cache.length()+t−1 attend to every cached position and to each other causally; their keys and
  // values (after the tap) are appended to the cache. logits() then holds (t, V), or (1, V) for the
  // last token with CachedLogits::kLast. Needs t ≤ max_seq and cache.length() + t ≤ its capacity.
  // The tap sees only the new rows, which is the full forward's behaviour for the per-token and
  // per-head quantizers (every row is quantized on its own).
  void forward_cached(const LlamaWeights<T>& w, const int32_t* tokens, int64_t t, KvCache<T>& cache,
                      ForwardTap* tap = nullptr, CachedLogits logits = CachedLogits::kAll);
  // Cross-entropy of the last forward's logits against targets (b, t); keeps what backward needs.
  LossSum loss(const int32_t* targets, int64_t b, int64_t t);
  // Adds ∂(loss_scale · Σ NLL)/∂θ into grads. Needs kTrain and the matching forward + loss.
  void backward(const LlamaWeights<T>& w, const LlamaWeights<T>& grads, const int32_t* tokens,
                const int32_t* targets, int64_t b, int64_t t, double loss_scale);

  const T* logits() const { return logits_.template data<T>(); }
  T* logits() { return logits_.template data<T>(); }
  const double* row_nll() const { return row_nll_.data(); }  // per-row NLL of the last loss()
  const ModelConfig& config() const { return cfg_; }
  Precision precision() const { return precision_; }
  int64_t activation_bytes() const { return arena_bytes_; }  // the activation plan, bf16 weight copy excluded
  int64_t weight_copy_bytes() const { return weights_bf16_.bytes(); }

 private:
  // Planned buffers, sized for max_batch × max_seq rows; forward and backward take prefixes.
  struct LayerActs {
    TensorView resid_in;   // (N, D) T: input of the layer (= output of the previous one)
    TensorView resid_mid;  // (N, D) T: after the attention residual
    TensorView norm1;      // (N, D) compute dtype (q/k/v input)
    TensorView rstd1;      // (N) T
    TensorView q;          // (N, H·Dh) T, after RoPE
    TensorView k;          // (N, Hkv·Dh) T, after RoPE
    TensorView v;          // (N, Hkv·Dh) T
    TensorView probs;      // (B·H·T, T) T; empty in inference mode
    TensorView att;        // (N, H·Dh) compute dtype: attention output = o_proj input
    TensorView norm2;      // (N, D) compute dtype
    TensorView rstd2;      // (N) T
    TensorView gate;       // (N, F) T
    TensorView up;         // (N, F) T
    TensorView act;        // (N, F) compute dtype: silu(gate)·up = down_proj input
  };
  void plan(int64_t max_batch, int64_t max_seq);
  // The forward body shared by forward (cache null) and forward_cached.
  void run_forward(const LlamaWeights<T>& w, const int32_t* tokens, int64_t b, int64_t t, ForwardTap* tap,
                   KvCache<T>* cache, CachedLogits logits);
  void run_head(const LlamaWeights<T>& w, int64_t n, int64_t head_rows, ForwardTap* tap);
  // A weight matrix as the GEMMs read it: the master (fp32) or its bf16 copy.
  TensorView weight(const LlamaWeights<T>& w, const T* p, int64_t rows, int64_t cols) const;
  TensorView gain(const T* p) const;  // (D) or () for SSNorm
  // dy as the weight-gradient GEMMs read it: itself (fp32) or rounded into the bf16 scratch.
  TensorView gemm_grad(TensorView dy);
  void check_tap(const ForwardTap* tap) const;

  ops::Context& ctx_;
  ModelConfig cfg_;
  ForwardMode mode_;
  Precision precision_;
  DType act_dtype_;  // the compute dtype of GEMM-input activations
  int64_t max_batch_, max_seq_;
  ops::RopeTable rope_;
  AlignedBuffer<std::byte> arena_;
  int64_t arena_bytes_ = 0;
  std::vector<LayerActs> layers_;
  TensorView emb_;        // (N, D) compute: embedding rows before R1 (only with emb_proj)
  TensorView resid_out_;  // (N, D) T: output of the last layer
  TensorView norm_f_;     // (N, D) compute: final norm output
  TensorView rstd_f_;     // (N) T
  TensorView head_f32_;   // (N, D) T: norm_f · R2ᵀ before its bf16 rounding (bf16 with emb_proj only)
  TensorView head_in_;    // (N, D) compute: norm_f · R2ᵀ (only with emb_proj; else = norm_f)
  TensorView logits_;     // (N, V) T; becomes dlogits during backward
  TensorView lse_;        // (N) T: log-sum-exp per row
  TensorView workspace_;  // attention scratch, T
  // Backward scratch (kTrain only), T; dy_bf16_ holds the bf16 copy of one GEMM's dy at a time.
  TensorView d_resid_, d_a_, d_b_, d_q_, d_k_, d_v_, d_gate_, d_up_, d_act_, dy_bf16_;
  std::vector<double> row_nll_;
  // Mixed precision: the bf16 copy of the parameters, and the master buffer it was made from.
  Tensor weights_bf16_;
  const T* cast_from_ = nullptr;
};

}  // namespace osp::model
