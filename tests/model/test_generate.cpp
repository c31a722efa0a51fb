// Incremental decoding and sampling: the KV-cached forward gives the full forward's logits (fp32,
// GQA, EmbProj, SSNorm, tied heads; chunked prefill; through the W4A4KV4 fake-quant tap), greedy
// generation equals argmax over full recomputation, and the sampler is reproducible, top-k = 1 is
// greedy and top-p keeps the nucleus. Fresh random weights and tokens every run; the seed is in
// every failure message (OSP_TEST_SEED replays it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "common/fresh_seed.h"
#include "common/model_fixtures.h"
#include "common/test_context.h"
#include "common/tolerance.h"
#include "model/generate.h"
#include "model/kv_cache.h"
#include "model/llama.h"
#include "quant/ptq.h"

namespace osp::model {
namespace {

const uint64_t kSeed = test::fresh_seed();  // OSP_TEST_SEED replays a failure

ModelConfig gqa_config() {
  ModelConfig c;
  c.layers = 2, c.hidden = 64, c.heads = 4, c.kv_heads = 2, c.vocab = 97, c.ffn = 96,
  c.context = 160;
  return *resolve(c);
}
ModelConfig osp_config() {  // SSNorm + EmbProj, no GQA
  ModelConfig c;
  c.layers = 3, c.hidden = 32, c.heads = 2, c.vocab = 61, c.ffn = 48, c.context = 160;
  c.norm = NormKind::kSingleScale, c.emb_proj = true;
  return *resolve(c);
}
ModelConfig tied_mqa_config() {  // one kv head, tied head, another RoPE base
  ModelConfig c;
  c.layers = 2, c.hidden = 48, c.heads = 3, c.kv_heads = 1, c.vocab = 80, c.ffn = 64,
  c.context = 160;
  c.tie = true, c.rope_theta = 500000.0;
  return *resolve(c);
}

template <class T>
struct Model {
  ModelConfig c;
  ParamTable table;
  AlignedBuffer<T> params;
  LlamaWeights<T> w;
  Model(const ModelConfig& cfg, uint64_t seed)
      : c(cfg),
        table(c),
        params([&] {
          Rng rng(seed);
          return test::random_parameters<T>(table, c, rng);
        }()),
        w(LlamaWeights<T>::bind(table, params.data())) {}
};

template <class T>
std::vector<double> full_logits(const ModelConfig& c, const LlamaWeights<T>& w,
                                const std::vector<int32_t>& tok, ForwardTap* tap = nullptr) {
  const int64_t t = int64_t(tok.size());
  Llama<T> m(test::ctx(), c, 1, t, ForwardMode::kInference);
  m.forward(w, tok.data(), 1, t, tap);
  return {m.logits(), m.logits() + t * c.vocab};
}

// The logits of every position, computed by a prefill of `prefill` tokens and then chunks of
// `chunk` (1: token by token), all through one KV cache.
template <class T>
std::vector<double> cached_logits(const ModelConfig& c, const LlamaWeights<T>& w,
                                  const std::vector<int32_t>& tok, int64_t prefill, int64_t chunk,
                                  ForwardTap* tap = nullptr) {
  const int64_t t = int64_t(tok.size());
  Llama<T> m(test::ctx(), c, 1, std::max(prefill, chunk), ForwardMode::kInference);
  KvCache<T> cache(test::ctx(), c, t);
  std::vector<double> out;
  for (int64_t p = 0; p < t;) {
    const int64_t n = std::min(p == 0 ? prefill : chunk, t - p);
    m.forward_cached(w, tok.data() + p, n, cache, tap);
    out.insert(out.end(), m.logits(), m.logits() + n * c.vocab);
    p += n;
    EXPECT_EQ(cache.length(), p);
  }
  return out;
}

class CachedForward : public ::testing::TestWithParam<int> {};

ModelConfig config_of(int i) {
  return i == 0 ? gqa_config() : i == 1 ? osp_config() : tied_mqa_config();
}

TEST_P(CachedForward, MatchesTheFullForwardInFp32) {
  const ModelConfig c = config_of(GetParam());
  Model<float> m(c, kSeed);
  Rng rng(kSeed + 1);
  const auto tok = test::random_tokens(rng, 150, c.vocab);  // beyond the attention's 64-row blocks
  const auto full = full_logits(c, m.w, tok);
  struct Split {
    int64_t prefill, chunk;
  };
  for (const Split s : {Split{1, 1}, Split{70, 1}, Split{13, 7}, Split{150, 1}}) {
    const double err = test::relative_error(cached_logits(c, m.w, tok, s.prefill, s.chunk), full);
    EXPECT_LE(err, 1e-5) << "seed " << kSeed << ", prefill " << s.prefill << ", chunk " << s.chunk;
  }
}

TEST_P(CachedForward, LastRowLogitsAreTheLastRow) {
  const ModelConfig c = config_of(GetParam());
  Model<float> m(c, kSeed);
  Rng rng(kSeed + 2);
  const auto tok = test::random_tokens(rng, 40, c.vocab);
  Llama<float> all(test::ctx(), c, 1, 40, ForwardMode::kInference),
      last(test::ctx(), c, 1, 40, ForwardMode::kInference);
  KvCache<float> ca(test::ctx(), c, 41), cl(test::ctx(), c, 41);
  // Equal up to the rounding of a 1-row against a 40-row head product.
  auto row = [&](const Llama<float>& l, int64_t r) {
    return std::vector<double>(l.logits() + r * c.vocab, l.logits() + (r + 1) * c.vocab);
  };
  all.forward_cached(m.w, tok.data(), 40, ca);
  last.forward_cached(m.w, tok.data(), 40, cl, nullptr, CachedLogits::kLast);
  EXPECT_LE(test::relative_error(row(last, 0), row(all, 39)), 1e-6) << "seed " << kSeed;
  const int32_t next = 3;
  all.forward_cached(m.w, &next, 1, ca);
  last.forward_cached(m.w, &next, 1, cl, nullptr, CachedLogits::kLast);
  EXPECT_LE(test::relative_error(row(last, 0), row(all, 0)), 1e-6) << "seed " << kSeed;
}

// Watches the inputs of the 4-bit quantizers that the tap sees before quantizing (linear inputs
// per token, attention output and V per group of Dh) for a value within 1e-9 of a rounding
// boundary. Such exact ties are not rare (about one draw in 25): at position 1 the attention
// output mixes two 4-bit V rows, and a small-integer relation between their levels at the same
// channels (m₁ = (m₀ − m₁₃)/2 in both) survives the mix, which puts a value exactly half-way
// between two levels of the next quantizer. There a last-bit difference between a 1-row and a
// T-row attention decides the rounding, in f64 too.
class TieWatch : public ForwardTap {
 public:
  TieWatch(ForwardTap& inner, int64_t head_dim) : inner_(inner), dh_(head_dim) {}
  bool tie = false;

  void hidden_state(ops::Context& ctx, int index, TensorView x) override { inner_.hidden_state(ctx, index, x); }
  void linear_input(ops::Context& ctx, LinearInput site, int layer, TensorView x) override {
    if (site == LinearInput::kQkv || site == LinearInput::kGateUp) watch(x, x.cols(), /*with_zero=*/true);
    if (site == LinearInput::kAttnOut) watch(x, dh_, /*with_zero=*/false);
    inner_.linear_input(ctx, site, layer, x);
  }
  void query_key(ops::Context& ctx, int layer, TensorView q, TensorView k) override {
    inner_.query_key(ctx, layer, q, k);
  }
  void value(ops::Context& ctx, int layer, TensorView v) override {
    watch(v, dh_, /*with_zero=*/false);
    inner_.value(ctx, layer, v);
  }

 private:
  // Groups of `group` consecutive values of each row, on the 15 steps of a 4-bit range [lo, hi]
  // (per token, the range includes 0).
  void watch(TensorView x, int64_t group, bool with_zero) {
    auto half = [](double u) { return std::abs(u - std::floor(u) - 0.5) < 1e-9; };
    for (int64_t r = 0; r < x.rows(); ++r)
      for (int64_t g = 0; g < x.cols(); g += group) {
        const double* p = x.data<double>() + r * x.ld() + g;
        double lo = with_zero ? 0 : p[0], hi = lo;
        for (int64_t j = 0; j < group; ++j) lo = std::min(lo, p[j]), hi = std::max(hi, p[j]);
        if (hi == lo) continue;
        const double scale = (hi - lo) / 15;
        tie = tie || half(-lo / scale);
        for (int64_t j = 0; j < group; ++j) tie = tie || half(p[j] / scale);
      }
  }
  ForwardTap& inner_;
  int64_t dh_;
};

// The W4A4KV4 model of `osp eval quant` (RTN weights, FFN Hadamard): quantized full forward and
// quantized incremental decoding agree. In f64, so that a last-bit difference between a 1-row and
// a T-row product cannot move a generic value across a 4-bit rounding boundary (in fp32 it rarely
// can, which changes one quantized activation by a whole step); a draw whose quantizers meet an
// exact tie (TieWatch) is redrawn, as no order of summation could decide it.
TEST_P(CachedForward, MatchesTheFullForwardThroughTheFakeQuantTap) {
  const ModelConfig c = config_of(GetParam());
  Model<float> m(c, kSeed);
  quant::PtqSettings s;  // W4A4KV4, RTN
  s.rotate = quant::Rotate::kFfn;
  auto q = quant::prepare_ptq(test::ctx(), c, m.table, m.params.data(), s, {});
  ASSERT_TRUE(q.ok()) << q.error().message;
  AlignedBuffer<double> pd(q->model.table.total_elems());
  std::copy(q->model.params.data(), q->model.params.data() + pd.size(), pd.data());
  const auto wd = LlamaWeights<double>::bind(q->model.table, pd.data());
  Rng rng(kSeed + 3);
  std::vector<int32_t> tok;
  std::vector<double> full;
  for (int draw = 0;; ++draw) {
    ASSERT_LT(draw, 20) << "seed " << kSeed << ": every draw met an exact rounding tie";
    tok = test::random_tokens(rng, 90, c.vocab);
    TieWatch watch(*q->tap, c.head_dim());
    full = full_logits(q->model.config, wd, tok, &watch);
    if (!watch.tie) break;
  }
  const auto plain = full_logits(q->model.config, wd, tok);
  EXPECT_GT(test::relative_error(full, plain), 1e-3)
      << "seed " << kSeed << ": the tap changed nothing";
  for (const int64_t prefill : {int64_t(1), int64_t(33)}) {
    const double err = test::relative_error(
        cached_logits(q->model.config, wd, tok, prefill, 1, q->tap.get()), full);
    EXPECT_LE(err, 1e-9) << "seed " << kSeed << ", prefill " << prefill;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, CachedForward, ::testing::Values(0, 1, 2), [](const auto& param_info) {
      const int i = param_info.param;
      return std::string(i == 0 ? "gqa" : i == 1 ? "ssnorm_embproj" : "tied_mqa");
    });

// A random model and a random prompt of n tokens, drawn from kSeed + salt.
struct Prompted {
  Model<float> m;
  std::vector<int32_t> prompt;
  Prompted(const ModelConfig& c, uint64_t salt, int64_t n)
      : m(c, kSeed), prompt([&] {
          Rng rng(kSeed + salt);
          return test::random_tokens(rng, n, c.vocab);
        }()) {}
};

// Greedy generation over the cache equals argmax of a full forward over the whole sequence at
// every step (a near-tie, within the fp32 error, may end the comparison early).
TEST(Generate, GreedyEqualsFullRecomputation) {
  const ModelConfig c = osp_config();
  Prompted p(c, 4, 9);
  const Model<float>& m = p.m;
  std::vector<int32_t> seq = p.prompt;
  GenerateSettings s;
  s.max_tokens = 40, s.sampling.temperature = 0;
  const auto r = generate<float>(test::ctx(), c, m.w, seq, s, nullptr, {});
  ASSERT_EQ(r.tokens.size(), 40u);
  EXPECT_EQ(r.prompt_tokens, 9);
  EXPECT_EQ(r.decode_steps, 39);
  for (const int32_t got : r.tokens) {
    const auto logits = full_logits(c, m.w, seq);
    const double* last = logits.data() + (seq.size() - 1) * size_t(c.vocab);
    const int32_t want = int32_t(std::max_element(last, last + c.vocab) - last);
    if (got != want) {
      EXPECT_LT(std::abs(last[want] - last[got]), 1e-4 * std::abs(last[want])) << "seed " << kSeed;
      return;
    }
    seq.push_back(got);
  }
}

TEST(Generate, StopsAtEosAndTopKOneIsGreedy) {
  const ModelConfig c = gqa_config();
  const Prompted p(c, 5, 5);
  const Model<float>& m = p.m;
  const std::vector<int32_t>& prompt = p.prompt;
  GenerateSettings greedy;
  greedy.max_tokens = 24, greedy.sampling.temperature = 0;
  const auto g = generate<float>(test::ctx(), c, m.w, prompt, greedy, nullptr, {});
  GenerateSettings k1 = greedy;
  k1.sampling = {.temperature = 3.0, .top_k = 1, .top_p = 0.5, .seed = kSeed};
  std::vector<int32_t> streamed;
  const auto r = generate<float>(test::ctx(), c, m.w, prompt, k1, nullptr,
                                 [&](int32_t t) { streamed.push_back(t); });
  EXPECT_EQ(r.tokens, g.tokens) << "seed " << kSeed;
  EXPECT_EQ(streamed, g.tokens);
  // EOS = the 6th greedy token: generation stops before it, without passing it on.
  const int32_t eos = g.tokens[5];
  const size_t first = size_t(std::find(g.tokens.begin(), g.tokens.end(), eos) - g.tokens.begin());
  GenerateSettings e = greedy;
  e.eos = eos;
  const auto stopped = generate<float>(test::ctx(), c, m.w, prompt, e, nullptr, {});
  EXPECT_TRUE(stopped.stopped_at_eos);
  EXPECT_EQ(stopped.tokens, std::vector<int32_t>(g.tokens.begin(), g.tokens.begin() + long(first)));
}

TEST(Generate, SeededSamplingIsReproducible) {
  const ModelConfig c = tied_mqa_config();
  const Prompted p(c, 6, 12);
  const Model<float>& m = p.m;
  const std::vector<int32_t>& prompt = p.prompt;
  GenerateSettings s;
  s.max_tokens = 48, s.sampling = {.temperature = 1.5, .top_k = 0, .top_p = 1.0, .seed = kSeed};
  const auto a = generate<float>(test::ctx(), c, m.w, prompt, s, nullptr, {});
  const auto b = generate<float>(test::ctx(), c, m.w, prompt, s, nullptr, {});
  EXPECT_EQ(a.tokens, b.tokens) << "seed " << kSeed;
  s.sampling.seed = kSeed + 1;
  const auto other = generate<float>(test::ctx(), c, m.w, prompt, s, nullptr, {});
  EXPECT_NE(a.tokens, other.tokens) << "seed " << kSeed << ": another seed drew the same 48 tokens";
}

// Logits with known probabilities at temperature 1: p = softmax(log p).
std::vector<float> log_probs(const std::vector<double>& p) {
  std::vector<float> l;
  for (double x : p) l.push_back(float(std::log(x)));
  return l;
}

TEST(Sampler, TopPKeepsTheNucleusAndDrawsItsRenormalisedProbabilities) {
  // Shuffled ids, so the nucleus is found by probability, not by position.
  const std::vector<double> p = {0.05, 0.30, 0.02, 0.45, 0.15, 0.03};
  const auto logits = log_probs(p);
  Sampler s({.temperature = 1.0, .top_k = 0, .top_p = 0.7, .seed = kSeed});
  const auto& cand = s.candidates(logits);
  ASSERT_EQ(cand.size(), 2u);  // 0.45 + 0.30 reaches 0.7
  EXPECT_EQ(cand[0].first, 3);
  EXPECT_EQ(cand[1].first, 1);
  EXPECT_NEAR(cand[0].second, 0.45 / 0.75, 1e-6);
  std::map<int32_t, int> counts;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) ++counts[s.sample(logits)];
  EXPECT_EQ(counts.size(), 2u) << "seed " << kSeed;
  // 0.6 ± 5 standard deviations of a binomial proportion.
  EXPECT_NEAR(counts[3] / double(draws), 0.6, 5 * std::sqrt(0.6 * 0.4 / draws)) << "seed " << kSeed;
  // top_p 0.8 needs the third most likely token too; top_k 2 cuts to two whatever top_p says.
  Sampler wider({.temperature = 1.0, .top_k = 0, .top_p = 0.8, .seed = kSeed});
  EXPECT_EQ(wider.candidates(logits).size(), 3u);
  Sampler k2({.temperature = 1.0, .top_k = 2, .top_p = 0.95, .seed = kSeed});
  EXPECT_EQ(k2.candidates(logits).size(), 2u);
}

TEST(Sampler, TemperatureScalesTheLogitsAndSeedsRepeat) {
  const std::vector<double> p = {0.1, 0.2, 0.3, 0.4};
  const auto logits = log_probs(p);
  // At temperature 2 the probabilities are ∝ sqrt(p).
  Sampler s({.temperature = 2.0, .top_k = 0, .top_p = 1.0, .seed = kSeed});
  double z = 0;
  for (double x : p) z += std::sqrt(x);
  const auto& cand = s.candidates(logits);
  ASSERT_EQ(cand.size(), 4u);
  for (const auto& [id, prob] : cand) EXPECT_NEAR(prob, std::sqrt(p[size_t(id)]) / z, 1e-6);
  Sampler a({.temperature = 0.7, .top_k = 3, .top_p = 0.9, .seed = kSeed}), b = a;
  for (int i = 0; i < 200; ++i) ASSERT_EQ(a.sample(logits), b.sample(logits)) << i;
  Sampler greedy({.temperature = 0, .top_k = 0, .top_p = 1.0, .seed = kSeed});
  EXPECT_EQ(greedy.sample(logits), 3);
  EXPECT_EQ(argmax(std::vector<float>{1, 5, 5, 2}), 1);  // the first maximum, as torch.argmax
}

}  // namespace
}  // namespace osp::model
