// Kurtosis and max-activation statistics (measurement.md §1), observed through a ForwardTap so
// the one forward implementation produces the hidden states (§1.3 indexing comes from the tap).
#include "eval/kurtosis.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "model/forward_tap.h"
#include "model/llama.h"
#include "ops/row_stats.h"

namespace osp::eval {

Result<Protocol> parse_protocol(const std::string& name) {
  if (name == "token") return Protocol::kToken;
  if (name == "sequence") return Protocol::kSequence;
  return make_error("unknown kurtosis protocol '{}' (expected token or sequence)", name);
}

const char* protocol_name(Protocol p) { return p == Protocol::kToken ? "token" : "sequence"; }

bool excess_kurtosis(ops::Context& ctx, const float* x, int64_t d, double* k) {
  double ratio = 0;
  int32_t channel = 0;
  ops::activation_row_stats(ctx, TensorView::of(k, {1}), TensorView::of(&ratio, {1}), TensorView::of(&channel, {1}),
                            TensorView::of(x, {1, d}));
  return !std::isnan(*k);
}

namespace {

// Records k⁺ (or "skipped") for every vector of every state of one forward, and keeps the
// running per-state maximum of |x_j| / rms(x).
class StatsTap final : public model::ForwardTap {
 public:
  StatsTap(int64_t states, int64_t max_vectors, std::vector<StateStats>& stats)
      : n_states_(states), kplus_(size_t(states * max_vectors)), ratio_(size_t(max_vectors)),
        channel_(size_t(max_vectors)), stats_(stats) {}

  void begin(int64_t vectors) { n_ = vectors; }
  // k⁺ of vector i of state s, or NaN when skipped.
  double kplus(int64_t s, int64_t i) const { return kplus_[size_t(s * n_ + i)]; }

  void hidden_state(ops::Context& ctx, int index, TensorView x) override {
    const int64_t rows = x.rows();
    OSP_CHECK(rows == n_ && index < n_states_, "unexpected hidden state {} with {} rows", index, rows);
    double* k = kplus_.data() + index * n_;
    ops::activation_row_stats(ctx, TensorView::of(k, {rows}), TensorView::of(ratio_.data(), {rows}),
                              TensorView::of(channel_.data(), {rows}), x);
    StateStats& st = stats_[size_t(index)];
    for (int64_t i = 0; i < rows; ++i) {
      if (!std::isnan(k[i])) k[i] = std::max(k[i], 0.0);
      if (ratio_[size_t(i)] > st.max_ratio) st.max_ratio = ratio_[size_t(i)], st.max_channel = channel_[size_t(i)];
    }
  }

 private:
  int64_t n_states_, n_ = 0;
  std::vector<double> kplus_, ratio_;
  std::vector<int32_t> channel_;
  std::vector<StateStats>& stats_;
};

// Per (row, state): Σ k⁺ and the count of non-skipped vectors.
struct RowAccum {
  std::vector<double> sum;
  std::vector<int64_t> count;
};

void finish(ActivationStats& out, const RowAccum& acc, int64_t states) {
  std::vector<double> state_sum(size_t(states), 0.0);
  std::vector<int64_t> state_n(size_t(states), 0);
  double total = 0;
  int64_t total_n = 0;
  for (int64_t r = 0; r < out.rows; ++r)
    for (int64_t s = 0; s < states; ++s) {
      const size_t i = size_t(r * states + s);
      if (acc.count[i] == 0) continue;  // every vector skipped: no value for this (row, state)
      const double mean = acc.sum[i] / double(acc.count[i]);
      state_sum[size_t(s)] += mean, state_n[size_t(s)] += 1;
      total += mean, total_n += 1;
    }
  for (int64_t s = 0; s < states; ++s) {
    StateStats& st = out.states[size_t(s)];
    st.kurtosis = state_n[size_t(s)] ? state_sum[size_t(s)] / double(state_n[size_t(s)]) : 0;
    if (st.max_ratio > out.max_ratio) out.max_ratio = st.max_ratio, out.max_ratio_state = s;
  }
  out.average = total_n ? total / double(total_n) : 0;
}

// `token`: each distinct id runs once as a length-1 sequence at position 0 (§1.2 allows this);
// each row then sums the values of its tokens.
void run_token(ops::Context& ctx, const model::ModelConfig& c, const model::LlamaWeights<float>& w,
               std::span<const int32_t> tok, ActivationStats& out, RowAccum& acc,
               const StatsProgressFn& progress) {
  const int64_t states = c.layers + 1;
  std::map<int32_t, int64_t> index;
  for (int32_t t : tok) index.emplace(t, 0);
  std::vector<int32_t> ids;
  for (auto& [id, i] : index) i = int64_t(ids.size()), ids.push_back(id);
  const int64_t n = int64_t(ids.size()), chunk = std::min<int64_t>(n, 512);
  std::vector<double> kp(size_t(n * states));
  model::Llama<float> m(ctx, c, chunk, 1, model::ForwardMode::kInference);
  StatsTap tap(states, chunk, out.states);
  for (int64_t b0 = 0; b0 < n; b0 += chunk) {
    const int64_t b = std::min(chunk, n - b0);
    tap.begin(b);
    m.forward(w, ids.data() + b0, b, 1, &tap);
    for (int64_t i = 0; i < b; ++i)
      for (int64_t s = 0; s < states; ++s) kp[size_t((b0 + i) * states + s)] = tap.kplus(s, i);
    if (progress) progress(b0 + b, n);
  }
  for (int64_t r = 0; r < out.rows; ++r)
    for (int64_t p = 0; p < out.width; ++p) {
      const int64_t id = index.at(tok[size_t(r * out.width + p)]);
      for (int64_t s = 0; s < states; ++s) {
        const double v = kp[size_t(id * states + s)];
        const size_t a = size_t(r * states + s);
        if (std::isnan(v)) ++out.skipped;
        else acc.sum[a] += v, acc.count[a] += 1;
      }
    }
}

// `sequence`: each row is one causal sequence of `width` tokens.
void run_sequence(ops::Context& ctx, const model::ModelConfig& c, const model::LlamaWeights<float>& w,
                  std::span<const int32_t> tok, ActivationStats& out, RowAccum& acc,
                  const StatsProgressFn& progress) {
  const int64_t states = c.layers + 1, wd = out.width;
  const int64_t batch = std::clamp<int64_t>(4096 / wd, 1, out.rows);
  model::Llama<float> m(ctx, c, batch, wd, model::ForwardMode::kInference);
  StatsTap tap(states, batch * wd, out.states);
  for (int64_t r0 = 0; r0 < out.rows; r0 += batch) {
    const int64_t b = std::min(batch, out.rows - r0);
    tap.begin(b * wd);
    m.forward(w, tok.data() + r0 * wd, b, wd, &tap);
    for (int64_t i = 0; i < b * wd; ++i)
      for (int64_t s = 0; s < states; ++s) {
        const double v = tap.kplus(s, i);
        const size_t a = size_t((r0 + i / wd) * states + s);
        if (std::isnan(v)) ++out.skipped;
        else acc.sum[a] += v, acc.count[a] += 1;
      }
    if (progress) progress(r0 + b, out.rows);
  }
}

}  // namespace

Result<ActivationStats> measure_activations(ops::Context& ctx, const model::ModelConfig& config,
                                            const model::LlamaWeights<float>& weights,
                                            std::span<const int32_t> tokens, int64_t rows,
                                            int64_t width, Protocol protocol,
                                            const StatsProgressFn& progress) {
  if (rows < 1 || width < 1) return make_error("kurtosis needs rows and width >= 1 (got {} x {})", rows, width);
  if (int64_t(tokens.size()) < rows * width)
    return make_error("kurtosis needs {} x {} = {} tokens, the data has {}", rows, width,
                      rows * width, tokens.size());
  if (protocol == Protocol::kSequence && width > config.context)
    return make_error("kurtosis width {} exceeds the model's context {}", width, config.context);
  const auto used = tokens.first(size_t(rows * width));
  for (int32_t t : used)
    if (t < 0 || t >= config.vocab)
      return make_error("token id {} is outside the model's vocabulary of {}", t, config.vocab);
  const int64_t states = config.layers + 1;
  ActivationStats out;
  out.rows = rows, out.width = width;
  out.states.resize(size_t(states));
  RowAccum acc{std::vector<double>(size_t(rows * states), 0.0),
               std::vector<int64_t>(size_t(rows * states), 0)};
  if (protocol == Protocol::kToken) run_token(ctx, config, weights, used, out, acc, progress);
  else run_sequence(ctx, config, weights, used, out, acc, progress);
  finish(out, acc, states);
  return out;
}

}  // namespace osp::eval
