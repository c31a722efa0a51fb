// Perplexity (measurement.md §2) against a direct computation with the model's own loss.
#include <gtest/gtest.h>

#include <cmath>

#include "common/test_context.h"
#include "common/model_fixtures.h"
#include "eval/perplexity.h"
#include "model/llama.h"

namespace osp {
namespace {

TEST(Perplexity, MatchesModelLossOnNonOverlappingWindowsAndDropsTheTail) {
  model::ModelConfig c;
  c.layers = 2, c.hidden = 32, c.heads = 4, c.ffn = 64, c.vocab = 61, c.context = 32;
  c = *model::resolve(c);
  const model::ParamTable table(c);
  Rng rng(21);
  auto p = test::random_parameters<float>(table, c, rng);
  const auto w = model::LlamaWeights<float>::bind(table, p.data());
  const int64_t win = 12, n = 5;
  auto tok = test::random_tokens(rng, n * win + 7, c.vocab);  // 7-token tail, dropped
  auto r = eval::perplexity(osp::test::ctx(), c, w, tok, win);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->windows, n);
  EXPECT_EQ(r->scored, n * (win - 1));
  // Direct: each window alone; targets shifted by one, the last position ignored.
  model::Llama<float> m(osp::test::ctx(), c, 1, win, model::ForwardMode::kInference);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int32_t> targets(tok.begin() + i * win + 1, tok.begin() + (i + 1) * win);
    targets.push_back(-100);
    m.forward(w, tok.data() + i * win, 1, win);
    sum += m.loss(targets.data(), 1, win).nll_sum;
  }
  EXPECT_NEAR(r->ppl, std::exp(sum / double(n * (win - 1))), 1e-5 * r->ppl);
  tok.resize(size_t(n * win));
  auto r2 = eval::perplexity(osp::test::ctx(), c, w, tok, win);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->ppl, r->ppl);
  tok.resize(size_t(win - 1));
  EXPECT_FALSE(eval::perplexity(osp::test::ctx(), c, w, tok, win).ok());
}

}  // namespace
}  // namespace osp
