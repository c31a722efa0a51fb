// Perplexity (measurement.md §2). Windows run in small batches sized so the logits stay modest;
// batch composition does not change the result (§2: all activation quantization is per token).
#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/llama.h"

namespace osp::eval {
namespace {

// Σ over positions 0..W−2 of logsumexp(logits) − logit[target], fp32 per token, fp64 sum.
// Per-token values are computed in parallel and summed in order, so the result is deterministic.
template <class T>
double window_nll(const T* logits, const int32_t* tokens, int64_t w, int64_t vocab) {
  std::vector<T> nll(size_t(w - 1));
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < w - 1; ++p) {
    const T* row = logits + p * vocab;
    T mx = row[0];
    for (int64_t j = 1; j < vocab; ++j) mx = std::max(mx, row[j]);
    double se = 0;
    for (int64_t j = 0; j < vocab; ++j) se += std::exp(double(row[j] - mx));
    const T lse = mx + T(std::log(se));
    nll[size_t(p)] = lse - row[tokens[p + 1]];
  }
  double sum = 0;
  for (T v : nll) sum += double(v);
  return sum;
}

}  // namespace

template <class T>
Result<PerplexityResult> perplexity(const model::ModelConfig& config,
                                    const model::LlamaWeights<T>& weights,
                                    std::span<const int32_t> tokens, int64_t window,
                                    model::ForwardTap<T>* tap, const ProgressFn& progress) {
  const int64_t n_tok = int64_t(tokens.size());
  if (window < 2) return make_error("perplexity window must be at least 2 tokens, got {}", window);
  if (n_tok < window)
    return make_error("perplexity needs at least one window of {} tokens, the data has {}", window,
                      n_tok);
  for (int32_t t : tokens)
    if (t < 0 || t >= config.vocab)
      return make_error("token id {} is outside the model's vocabulary of {}", t, config.vocab);
  PerplexityResult r;
  r.window = window;
  r.windows = n_tok / window;
  r.scored = r.windows * (window - 1);
  // Keep the logits of one batch under ~256 MiB (the evaluation code uses batches of 4).
  const int64_t per_window = window * config.vocab * int64_t(sizeof(T));
  const int64_t batch = std::clamp<int64_t>((int64_t(256) << 20) / std::max<int64_t>(per_window, 1), 1, 4);
  model::Llama<T> m(config, std::min(batch, r.windows), window, model::ForwardMode::kInference);
  double total = 0;
  for (int64_t w0 = 0; w0 < r.windows; w0 += batch) {
    const int64_t b = std::min(batch, r.windows - w0);
    const int32_t* tok = tokens.data() + w0 * window;
    m.forward(weights, tok, b, window, tap);
    for (int64_t i = 0; i < b; ++i)
      total += window_nll(m.logits() + i * window * config.vocab, tok + i * window, window, config.vocab);
    if (progress) progress(w0 + b, r.windows);
  }
  r.mean_nll = total / double(r.scored);
  r.ppl = std::exp(r.mean_nll);
  return r;
}

template Result<PerplexityResult> perplexity<float>(const model::ModelConfig&, const model::LlamaWeights<float>&,
                                                   std::span<const int32_t>, int64_t, model::ForwardTap<float>*,
                                                   const ProgressFn&);
template Result<PerplexityResult> perplexity<double>(const model::ModelConfig&, const model::LlamaWeights<double>&,
                                                    std::span<const int32_t>, int64_t, model::ForwardTap<double>*,
                                                    const ProgressFn&);

}  // namespace osp::eval
