// Invariances (measurement.md §3.9, §3.10; osp-method.md §3): folding, the FFN Hadamard and the
// full rotation leave the unquantized model's logits unchanged; kurtosis is measured as folded.
#include <gtest/gtest.h>

#include <cmath>

#include "common/test_context.h"
#include "common/model_fixtures.h"
#include "eval/kurtosis.h"
#include "eval/perplexity.h"
#include "model/llama.h"
#include "quant/ptq.h"

namespace osp {
namespace {

model::ModelConfig config(bool ss, bool emb_proj, bool tie) {
  model::ModelConfig c;
  c.layers = 2, c.hidden = 32, c.heads = 4, c.kv_heads = 2, c.ffn = 80, c.vocab = 53, c.context = 16;
  c.norm = ss ? model::NormKind::kSingleScale : model::NormKind::kRms;
  c.emb_proj = emb_proj, c.tie = tie;
  return *model::resolve(c);
}

std::vector<float> logits(const model::ModelConfig& c, const model::LlamaWeights<float>& w,
                          const std::vector<int32_t>& tok, model::ForwardTap* tap = nullptr) {
  model::Llama<float> m(osp::test::ctx(), c, 2, 8, model::ForwardMode::kInference);
  m.forward(w, tok.data(), 2, 8, tap);
  return {m.logits(), m.logits() + 16 * c.vocab};
}

double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) num = std::max(num, double(std::abs(a[i] - b[i]))),
                                        den = std::max(den, double(std::abs(b[i])));
  return num / den;
}

struct Case { bool ss, emb_proj, tie; };

class Invariance : public ::testing::TestWithParam<Case> {};

TEST_P(Invariance, RotationsLeaveLogitsUnchanged) {
  const auto [ss, ep, tie] = GetParam();
  const auto c = config(ss, ep, tie);
  const model::ParamTable table(c);
  Rng rng(51);
  auto p = test::random_parameters<float>(table, c, rng);
  const auto w = model::LlamaWeights<float>::bind(table, p.data());
  const auto tok = test::random_tokens(rng, 16, c.vocab);
  const auto ref = logits(c, w, tok);
  quant::PtqSettings s;
  s.w_bits = s.a_bits = s.kv_bits = 16;
  s.center_embed = false;
  for (auto rot : {quant::Rotate::kNone, quant::Rotate::kFfn, quant::Rotate::kFull}) {
    s.rotate = rot;
    auto q = quant::prepare_ptq(osp::test::ctx(), c, table, p.data(), s, {});
    ASSERT_TRUE(q.ok()) << q.error().message;
    EXPECT_LT(rel_err(logits(q->model.config, q->model.weights(), tok, q->tap.get()), ref), 1e-5)
        << quant::rotate_name(rot);
  }
  // Kurtosis is defined on the folded form (§0): the tap gives it directly.
  auto folded = quant::fold_to_plain(osp::test::ctx(), c, table, p.data());
  auto a = eval::measure_activations(osp::test::ctx(), c, w, tok, 2, 8, eval::Protocol::kSequence);
  auto b = eval::measure_activations(osp::test::ctx(), folded.config, folded.weights(), tok, 2, 8, eval::Protocol::kSequence);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NEAR(a->average, b->average, 1e-4 * std::max(1.0, a->average));
}

INSTANTIATE_TEST_SUITE_P(Forms, Invariance,
                         ::testing::Values(Case{false, false, false}, Case{true, true, false},
                                           Case{false, true, true}, Case{true, false, true}));

// Centring the embedding (quirk Q4) changes the function of an RMSNorm model.
TEST(Rotation, CentringTheEmbeddingIsNotInvariant) {
  const auto c = config(false, false, false);
  const model::ParamTable table(c);
  Rng rng(52);
  auto p = test::random_parameters<float>(table, c, rng);
  const auto w = model::LlamaWeights<float>::bind(table, p.data());
  const auto tok = test::random_tokens(rng, 16, c.vocab);
  quant::PtqSettings s;
  s.w_bits = s.a_bits = s.kv_bits = 16;
  s.rotate = quant::Rotate::kFull;
  auto q = quant::prepare_ptq(osp::test::ctx(), c, table, p.data(), s, {});
  ASSERT_TRUE(q.ok());
  EXPECT_GT(rel_err(logits(q->model.config, q->model.weights(), tok, q->tap.get()), logits(c, w, tok)), 1e-4);
}

// W4A4KV4 changes the perplexity; every bit width at 16 reproduces FP exactly.
TEST(Ptq, SixteenBitsIsFpAndFourBitsIsNot) {
  const auto c = config(true, true, false);
  const model::ParamTable table(c);
  Rng rng(53);
  auto p = test::random_parameters<float>(table, c, rng);
  const auto w = model::LlamaWeights<float>::bind(table, p.data());
  const auto tok = test::random_tokens(rng, 64, c.vocab);
  auto fp = eval::perplexity(osp::test::ctx(), c, w, tok, 16);
  quant::PtqSettings s;
  s.w_bits = s.a_bits = s.kv_bits = 16;
  auto q16 = quant::prepare_ptq(osp::test::ctx(), c, table, p.data(), s, {});
  auto r16 = eval::perplexity(osp::test::ctx(), q16->model.config, q16->model.weights(), tok, 16, q16->tap.get());
  ASSERT_TRUE(fp.ok() && r16.ok());
  EXPECT_NEAR(r16->ppl, fp->ppl, 1e-5 * fp->ppl);
  s.w_bits = s.a_bits = s.kv_bits = 4;
  auto q4 = quant::prepare_ptq(osp::test::ctx(), c, table, p.data(), s, {});
  auto r4 = eval::perplexity(osp::test::ctx(), q4->model.config, q4->model.weights(), tok, 16, q4->tap.get());
  ASSERT_TRUE(r4.ok());
  EXPECT_GT(std::abs(r4->ppl - fp->ppl), 1e-3 * fp->ppl);
  s.w_bits = 1;
  EXPECT_FALSE(quant::prepare_ptq(osp::test::ctx(), c, table, p.data(), s, {}).ok());
}

}  // namespace
}  // namespace osp
