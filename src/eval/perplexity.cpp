// Perplexity (measurement.md §2). Windows run in small batches sized so the logits stay modest;
// batch composition does not change the result (§2: all activation quantization is per token).
// The NLL is the model's own loss (fp32 per token, summed in fp64 in order), with the last
// position of every window ignored: it has no successor inside the window.
#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/llama.h"
#include "ops/cross_entropy.h"

namespace osp::eval {

template <class T>
Result<PerplexityResult> perplexity(ops::Context& ctx, const model::ModelConfig& config,
                                    const model::LlamaWeights<T>& weights, std::span<const int32_t> tokens,
                                    int64_t window, model::ForwardTap* tap, const ProgressFn& progress) {
  const int64_t n_tok = int64_t(tokens.size());
  if (window < 2) return make_error("perplexity window must be at least 2 tokens, got {}", window);
  if (n_tok < window)
    return make_error("perplexity needs at least one window of {} tokens, the data has {}", window, n_tok);
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
  model::Llama<T> m(ctx, config, std::min(batch, r.windows), window, model::ForwardMode::kInference);
  std::vector<int32_t> targets(size_t(batch * window));
  double total = 0;
  for (int64_t w0 = 0; w0 < r.windows; w0 += batch) {
    const int64_t b = std::min(batch, r.windows - w0);
    const int32_t* tok = tokens.data() + w0 * window;
    for (int64_t i = 0; i < b * window; ++i)
      targets[size_t(i)] = (i + 1) % window == 0 ? ops::kIgnoreIndex : tok[i + 1];
    m.forward(weights, tok, b, window, tap);
    total += m.loss(targets.data(), b, window).nll_sum;
    if (progress) progress(w0 + b, r.windows);
  }
  r.mean_nll = total / double(r.scored);
  r.ppl = std::exp(r.mean_nll);
  return r;
}

template Result<PerplexityResult> perplexity<float>(ops::Context&, const model::ModelConfig&,
                                                   const model::LlamaWeights<float>&, std::span<const int32_t>,
                                                   int64_t, model::ForwardTap*, const ProgressFn&);
template Result<PerplexityResult> perplexity<double>(ops::Context&, const model::ModelConfig&,
                                                    const model::LlamaWeights<double>&, std::span<const int32_t>,
                                                    int64_t, model::ForwardTap*, const ProgressFn&);

}  // namespace osp::eval
