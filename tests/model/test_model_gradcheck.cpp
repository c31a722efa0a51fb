// Whole-model finite-difference check in double precision: every parameter tensor, both norm
// kinds, emb-proj on and off, tied and untied, GQA and MHA.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "common/gradcheck.h"
#include "model/llama.h"
#include "common/model_fixtures.h"

namespace osp::model {
namespace {

struct GradCase {
  const char* name;
  ModelConfig config;
  int64_t batch, seq;
};

class ModelGrad : public ::testing::TestWithParam<GradCase> {};

TEST_P(ModelGrad, EveryParameterMatchesFiniteDifferences) {
  const GradCase& gc = GetParam();
  auto cfg = resolve(gc.config);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  const ModelConfig c = *cfg;
  const ParamTable table(c);
  Rng rng(1234);
  AlignedBuffer<double> params = test::random_parameters<double>(table, c, rng);
  AlignedBuffer<double> grads(table.total_elems());
  const auto w = LlamaWeights<double>::bind(table, params.data());
  const auto g = LlamaWeights<double>::bind(table, grads.data());
  const int64_t n = gc.batch * gc.seq;
  const auto tokens = test::random_tokens(rng, n, c.vocab);
  const auto targets = test::random_targets(rng, n, c.vocab);

  ops::Context ctx = ops::Context::cpu();
  Llama<double> model(ctx, c, gc.batch, gc.seq, ForwardMode::kTrain);
  auto mean_loss = [&] {
    model.forward(w, tokens.data(), gc.batch, gc.seq);
    const LossSum l = model.loss(targets.data(), gc.batch, gc.seq);
    return l.nll_sum / double(l.count);
  };
  mean_loss();
  const LossSum l = model.loss(targets.data(), gc.batch, gc.seq);
  model.backward(w, g, tokens.data(), targets.data(), gc.batch, gc.seq, 1.0 / double(l.count));

  for (const auto& p : table.params())
    test::expect_gradient_matches(p.name, params.data() + p.offset, size_t(p.numel),
                                  grads.data() + p.offset, mean_loss, 1e-6, /*max_checks=*/40);
}

ModelConfig make(int64_t layers, int64_t hidden, int64_t heads, int64_t kv, int64_t vocab,
                 NormKind norm, bool emb_proj, bool tie) {
  ModelConfig c;
  c.layers = layers, c.hidden = hidden, c.heads = heads, c.kv_heads = kv, c.vocab = vocab;
  c.ffn = 2 * hidden + 8;  // not a multiple of anything in particular
  c.norm = norm, c.emb_proj = emb_proj, c.tie = tie, c.rope_theta = 300.0, c.norm_eps = 1e-5;
  return c;
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ModelGrad,
    ::testing::Values(
        GradCase{"mha_rms_untied", make(2, 16, 2, 2, 23, NormKind::kRms, false, false), 2, 5},
        GradCase{"gqa_ssnorm_embproj", make(2, 24, 4, 2, 19, NormKind::kSingleScale, true, false), 2, 6},
        GradCase{"gqa_rms_tied_embproj", make(1, 24, 6, 2, 17, NormKind::kRms, true, true), 1, 7},
        GradCase{"mqa_ssnorm_tied", make(2, 16, 4, 1, 21, NormKind::kSingleScale, false, true), 2, 4}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace osp::model
