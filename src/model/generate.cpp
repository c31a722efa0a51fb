// Sampling and the generation loop (prefill, then cached one-token steps).
#include "model/generate.h"

#include <algorithm>
#include <cmath>

#include "core/timer.h"
#include "model/kv_cache.h"
#include "model/llama.h"

namespace osp::model {

int32_t argmax(std::span<const float> logits) {
  OSP_CHECK(!logits.empty(), "argmax of no logits");
  return int32_t(std::max_element(logits.begin(), logits.end()) -
                 logits.begin());  // the first maximum
}

Sampler::Sampler(const SamplingSettings& s) : s_(s), rng_(s.seed) {
  OSP_CHECK(s.temperature >= 0 && s.top_k >= 0 && s.top_p > 0 && s.top_p <= 1,
            "sampling settings out of range (temperature {}, top_k {}, top_p {})", s.temperature,
            s.top_k, s.top_p);
}

const std::vector<std::pair<int32_t, double>>& Sampler::candidates(std::span<const float> logits) {
  cand_.clear();
  if (s_.temperature == 0 || s_.top_k == 1) {
    cand_.emplace_back(argmax(logits), 1.0);
    return cand_;
  }
  const int64_t v = int64_t(logits.size());
  for (int64_t i = 0; i < v; ++i)
    cand_.emplace_back(int32_t(i), double(logits[size_t(i)]) / s_.temperature);
  // Most likely first, the lower id first among equals (the order top-k and top-p cut in).
  auto more_likely = [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  if (s_.top_k > 0 && s_.top_k < v) {
    std::partial_sort(cand_.begin(), cand_.begin() + s_.top_k, cand_.end(), more_likely);
    cand_.resize(size_t(s_.top_k));
  } else if (s_.top_p < 1) {
    std::sort(cand_.begin(), cand_.end(), more_likely);
  }
  // Softmax over the survivors (in double, max subtracted).
  double mx = -INFINITY, sum = 0;
  for (const auto& c : cand_) mx = std::max(mx, c.second);
  for (auto& c : cand_) sum += (c.second = std::exp(c.second - mx));
  for (auto& c : cand_) c.second /= sum;
  if (s_.top_p < 1) {  // the nucleus: up to and including the token where the mass reaches top_p
    double mass = 0;
    size_t keep = 0;
    while (keep < cand_.size() && mass < s_.top_p) mass += cand_[keep++].second;
    cand_.resize(std::max<size_t>(keep, 1));
    for (auto& c : cand_) c.second /= mass;
  }
  return cand_;
}

int32_t Sampler::sample(std::span<const float> logits) {
  const auto& c = candidates(logits);
  if (c.size() == 1) return c[0].first;
  double u = rng_.uniform();
  for (const auto& [id, p] : c) {
    if (u < p) return id;
    u -= p;
  }
  return c.back().first;  // u left over by rounding
}

template <class T>
GenerateResult generate(ops::Context& ctx, const ModelConfig& config, const LlamaWeights<T>& w,
                        std::span<const int32_t> prompt, const GenerateSettings& settings,
                        ForwardTap* tap, const std::function<void(int32_t)>& on_token) {
  const int64_t n = int64_t(prompt.size()), max_new = settings.max_tokens;
  OSP_CHECK(n >= 1 && max_new >= 0 && n + max_new <= config.context,
            "prompt {} + {} new tokens do not fit the context {}", n, max_new, config.context);
  const int64_t chunk = std::min(n, std::max<int64_t>(1, settings.prefill_chunk));
  Llama<T> model(ctx, config, 1, chunk, ForwardMode::kInference);
  KvCache<T> cache(ctx, config, n + std::max<int64_t>(max_new, 1));
  Sampler sampler(settings.sampling);
  std::vector<float> logits(size_t(config.vocab));
  auto draw = [&] {
    std::copy(model.logits(), model.logits() + config.vocab, logits.begin());
    return sampler.sample(logits);
  };

  GenerateResult r;
  r.prompt_tokens = n;
  Timer timer;
  for (int64_t p = 0; p < n; p += chunk)
    model.forward_cached(w, prompt.data() + p, std::min(chunk, n - p), cache, tap,
                         CachedLogits::kLast);
  if (max_new == 0) {
    r.prefill_seconds = timer.seconds();
    return r;
  }
  int32_t next = draw();
  r.prefill_seconds = timer.seconds();
  for (;;) {
    if (settings.eos && next == *settings.eos) {
      r.stopped_at_eos = true;
      break;
    }
    r.tokens.push_back(next);
    if (on_token) on_token(next);
    if (int64_t(r.tokens.size()) == max_new) break;
    timer.reset();  // the step's forward and draw, not the caller's printing
    model.forward_cached(w, &next, 1, cache, tap, CachedLogits::kLast);
    next = draw();
    r.decode_seconds += timer.seconds();
    ++r.decode_steps;
  }
  return r;
}

template GenerateResult generate<float>(ops::Context&, const ModelConfig&,
                                        const LlamaWeights<float>&, std::span<const int32_t>,
                                        const GenerateSettings&, ForwardTap*,
                                        const std::function<void(int32_t)>&);
template GenerateResult generate<double>(ops::Context&, const ModelConfig&,
                                         const LlamaWeights<double>&, std::span<const int32_t>,
                                         const GenerateSettings&, ForwardTap*,
                                         const std::function<void(int32_t)>&);

}  // namespace osp::model
