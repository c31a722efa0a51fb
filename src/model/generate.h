// Text generation over a KV cache: the next-token sampler (temperature, top-k, top-p, seeded) and
// the decoding loop (prefill the prompt, then one cached forward per new token), timed separately.
//
//   GenerateSettings s;  s.max_tokens = 64;  s.sampling.temperature = 0;   // greedy
//   auto r = generate<float>(ctx, config, weights, prompt_ids, s, tap, [](int32_t id) { ... });
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "model/config.h"
#include "model/forward_tap.h"
#include "model/params.h"
#include "ops/context.h"

namespace osp::model {

struct SamplingSettings {
  double temperature = 0.8;  // 0: greedy (argmax, the lowest id among equal maxima)
  int64_t top_k = 0;         // keep the k most likely tokens (0: all); 1 is greedy
  double top_p = 1.0;        // keep the smallest most-likely set whose probability reaches p (1: all)
  uint64_t seed = 0;
};

// Draws token ids from logits as transformers' sampling does: scale by 1/temperature, keep the top
// k, keep the nucleus of probability top_p, renormalise, draw. Reproducible for a seed.
class Sampler {
 public:
  explicit Sampler(const SamplingSettings& s);
  int32_t sample(std::span<const float> logits);
  // The tokens that may be drawn for these logits with their probabilities (summing to 1), most
  // likely first when top_k or top_p filter (one token for greedy settings); sample() draws from
  // exactly this list.
  const std::vector<std::pair<int32_t, double>>& candidates(std::span<const float> logits);

 private:
  SamplingSettings s_;
  Rng rng_;
  std::vector<std::pair<int32_t, double>> cand_;
};

int32_t argmax(std::span<const float> logits);

struct GenerateSettings {
  int64_t max_tokens = 64;        // new tokens at most
  std::optional<int32_t> eos;     // stop after drawing it (it is not passed on); none: never
  int64_t prefill_chunk = 512;    // prompt tokens per prefill forward (bounds the activations)
  SamplingSettings sampling;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // the new tokens, EOS excluded
  bool stopped_at_eos = false;
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0;   // the prompt's forwards and the first draw
  int64_t decode_steps = 0;     // cached one-token forwards
  double decode_seconds = 0;
};

// Generates after prompt (≥ 1 token; prompt + max_tokens ≤ config.context, checked). on_token
// receives every new token as soon as it is drawn. The tap (fake quantization) sees every
// forward's new rows, so its KV quantization applies to what enters the cache.
template <class T>
GenerateResult generate(ops::Context& ctx, const ModelConfig& config, const LlamaWeights<T>& w,
                        std::span<const int32_t> prompt, const GenerateSettings& settings, ForwardTap* tap,
                        const std::function<void(int32_t)>& on_token);

}  // namespace osp::model
