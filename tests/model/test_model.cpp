// Model tests other than gradients: config validation, parameter table, initialisation,
// inference mode against training mode, and the forward tap.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "model/llama.h"
#include "ops/elementwise.h"
#include "common/model_fixtures.h"

namespace osp::model {
namespace {

ModelConfig small_config() {
  ModelConfig c;
  c.layers = 2, c.hidden = 32, c.heads = 4, c.kv_heads = 2, c.vocab = 50, c.ffn = 48;
  return c;
}

void expect_refused(ModelConfig c, const std::string& field) {
  auto r = resolve(c);
  ASSERT_FALSE(r.ok()) << "config with bad " << field << " was accepted";
  EXPECT_NE(r.error().message.find(field), std::string::npos) << r.error().message;
}

TEST(ModelConfig, BadFieldsAreRefusedByName) {
  ModelConfig c = small_config();
  c.heads = 5;  // does not divide 32
  expect_refused(c, "model.heads");
  c = small_config(), c.kv_heads = 3;
  expect_refused(c, "model.kv_heads");
  c = small_config(), c.hidden = 24, c.heads = 8;  // head dim 3 is odd
  expect_refused(c, "head dim");
  for (const char* f : {"layers", "hidden", "heads", "vocab", "ffn"}) {
    c = small_config();
    (f == std::string("layers")   ? c.layers
     : f == std::string("hidden") ? c.hidden
     : f == std::string("heads")  ? c.heads
     : f == std::string("vocab")  ? c.vocab
                                  : c.ffn) = -1;
    expect_refused(c, std::string("model.") + f);
  }
  c = small_config(), c.rope_theta = 0;
  expect_refused(c, "model.rope_theta");
  c = small_config(), c.norm_eps = -1;
  expect_refused(c, "model.norm_eps");
}

TEST(ModelConfig, DefaultsFollowTheSpec) {
  ModelConfig c = small_config();
  c.kv_heads = 0, c.ffn = 0, c.hidden = 2048, c.heads = 16;
  auto r = resolve(c);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kv_heads, 16);
  EXPECT_EQ(r->ffn, 5504);  // spec §1.6 table
  for (auto [d, f] : {std::pair{64, 256}, {576, 1536}, {768, 2048}, {896, 2432}, {1536, 4096}})
    EXPECT_EQ(default_ffn_size(d), f) << d;
}

TEST(ModelConfig, JsonRoundTripAndUnknownKeys) {
  ModelConfig c = small_config();
  c.norm = NormKind::kSingleScale, c.emb_proj = true, c.init_std = 0.02;
  auto back = model_config_from_json(model_config_to_json(*resolve(c)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(model_config_to_json(*back), model_config_to_json(*resolve(c)));
  auto j = model_config_to_json(*resolve(c));
  j["hiden"] = 3;
  auto bad = model_config_from_json(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("model.hiden"), std::string::npos);
  j = model_config_to_json(*resolve(c));
  j["norm"] = "layernorm";
  EXPECT_FALSE(model_config_from_json(j).ok());
}

TEST(ParamTable, PaperShapeCountsMatchTheSpec) {
  ModelConfig c;
  c.layers = 24, c.hidden = 2048, c.heads = 16, c.vocab = 49152;
  const ParamTable rms(*resolve(c));
  EXPECT_EQ(rms.num_parameters(), 1415577600 + 100352);  // spec §1.12
  c.norm = NormKind::kSingleScale, c.emb_proj = true;
  const ParamTable osp(*resolve(c));
  EXPECT_EQ(osp.num_parameters(), 1415577600 + 49 + 8388608);
  ASSERT_NE(osp.find("model.embed_proj.weight"), nullptr);
  ASSERT_NE(osp.find("model.head_proj.weight"), nullptr);
  EXPECT_TRUE(osp.find("model.layers.3.input_layernorm.weight")->shape.empty());
  c.tie = true;
  EXPECT_EQ(ParamTable(*resolve(c)).find("lm_head.weight"), nullptr);
}

TEST(Init, FanInStdAndOrthogonalProjections) {
  ModelConfig c = small_config();
  c.hidden = 128, c.heads = 4, c.kv_heads = 4, c.ffn = 256, c.vocab = 300, c.emb_proj = true;
  c = *resolve(c);
  const ParamTable table(c);
  AlignedBuffer<float> p(table.total_elems());
  Rng rng(9);
  init_parameters(p.data(), table, c, rng);
  for (const auto& info : table.params()) {
    const float* w = p.data() + info.offset;
    double s2 = 0, mx = 0;
    for (int64_t i = 0; i < info.numel; ++i) s2 += double(w[i]) * w[i], mx = std::max(mx, std::abs(double(w[i])));
    const double std = std::sqrt(s2 / double(info.numel));
    if (info.role == ParamRole::kNormGain) {
      EXPECT_EQ(std, 1.0);
    } else if (info.role == ParamRole::kEmbedding) {
      EXPECT_NEAR(std, 1.0 / std::sqrt(128.0), 0.01) << info.name;
    } else if (info.fan_in > 0 && info.role != ParamRole::kEmbProj && info.role != ParamRole::kHeadProj) {
      const double s = 1.0 / std::sqrt(double(info.fan_in));
      EXPECT_NEAR(std, s, 0.05 * s) << info.name;
      EXPECT_LE(mx, 2.0 * s / 0.8796256610342398 + 1e-6) << info.name;  // truncated at 2σ
    }
  }
  // R1ᵀR1 = I.
  const float* r1 = p.data() + table.find("model.embed_proj.weight")->offset;
  double worst = 0;
  for (int i = 0; i < 128; ++i)
    for (int j = 0; j < 128; ++j) {
      double dot = 0;
      for (int k = 0; k < 128; ++k) dot += double(r1[k * 128 + i]) * r1[k * 128 + j];
      worst = std::max(worst, std::abs(dot - (i == j ? 1.0 : 0.0)));
    }
  EXPECT_LT(worst, 1e-5);
}

struct Fixture {
  ModelConfig c;
  ParamTable table;
  AlignedBuffer<float> params;
  LlamaWeights<float> w;
  explicit Fixture(ModelConfig cfg, uint64_t seed = 5)
      : c(*resolve(cfg)), table(c), params([&] {
          Rng rng(seed);
          return test::random_parameters<float>(table, c, rng);
        }()),
        w(LlamaWeights<float>::bind(table, params.data())) {}
};

TEST(Llama, InferenceModeMatchesTrainingMode) {
  ModelConfig cfg = small_config();
  cfg.emb_proj = true, cfg.norm = NormKind::kSingleScale;
  Fixture fx(cfg);
  Rng rng(3);
  const int64_t b = 3, t = 37;
  const auto tokens = test::random_tokens(rng, b * t, fx.c.vocab);
  ops::Context ctx = ops::Context::cpu();
  Llama<float> train(ctx, fx.c, b, t, ForwardMode::kTrain), infer(ctx, fx.c, b, t, ForwardMode::kInference);
  train.forward(fx.w, tokens.data(), b, t);
  infer.forward(fx.w, tokens.data(), b, t);
  for (int64_t i = 0; i < b * t * fx.c.vocab; ++i) ASSERT_EQ(train.logits()[i], infer.logits()[i]) << i;
  EXPECT_LT(infer.activation_bytes(), train.activation_bytes());
  // A shorter batch in the same plan gives the same leading rows as a plan of that size.
  Llama<float> small(ctx, fx.c, 1, 20, ForwardMode::kInference);
  small.forward(fx.w, tokens.data(), 1, 20);
  infer.forward(fx.w, tokens.data(), 1, 20);
  for (int64_t i = 0; i < 20 * fx.c.vocab; ++i) ASSERT_EQ(small.logits()[i], infer.logits()[i]);
}

TEST(Llama, CausalityLaterTokensDoNotChangeEarlierLogits) {
  Fixture fx(small_config());
  Rng rng(4);
  const int64_t t = 16;
  auto tokens = test::random_tokens(rng, t, fx.c.vocab);
  ops::Context ctx = ops::Context::cpu();
  Llama<float> m(ctx, fx.c, 1, t, ForwardMode::kInference);
  m.forward(fx.w, tokens.data(), 1, t);
  std::vector<float> before(m.logits(), m.logits() + t * fx.c.vocab);
  tokens[10] = (tokens[10] + 1) % int32_t(fx.c.vocab);
  m.forward(fx.w, tokens.data(), 1, t);
  for (int64_t i = 0; i < 10 * fx.c.vocab; ++i) ASSERT_EQ(before[size_t(i)], m.logits()[i]);
  bool changed = false;
  for (int64_t i = 10 * fx.c.vocab; i < t * fx.c.vocab; ++i) changed |= before[size_t(i)] != m.logits()[i];
  EXPECT_TRUE(changed);
}

// Records hidden states; doubles the q/k/v input of one layer.
class TestTap : public ForwardTap {
 public:
  std::vector<std::vector<float>> states;
  int scale_layer = -1;
  void hidden_state(ops::Context&, int index, TensorView x) override {
    EXPECT_EQ(index, int(states.size()));
    states.emplace_back(x.data<float>(), x.data<float>() + x.numel());
  }
  void linear_input(ops::Context& ctx, LinearInput site, int layer, TensorView x) override {
    if (site == LinearInput::kQkv && layer == scale_layer) ops::scale(ctx, x, 2.0);
  }
};

TEST(Llama, TapSeesHiddenStatesAndCanTransformLinearInputs) {
  ModelConfig cfg = small_config();
  cfg.layers = 3;
  Fixture fx(cfg);
  Rng rng(6);
  const int64_t t = 9;
  const auto tokens = test::random_tokens(rng, t, fx.c.vocab);
  ops::Context ctx = ops::Context::cpu();
  Llama<float> m(ctx, fx.c, 1, t, ForwardMode::kInference);
  TestTap tap;
  m.forward(fx.w, tokens.data(), 1, t, &tap);
  ASSERT_EQ(tap.states.size(), 4u);  // embedding, after layers 1 and 2, final norm
  const float* e = fx.w.embed + tokens[0] * fx.c.hidden;
  for (int64_t j = 0; j < fx.c.hidden; ++j) EXPECT_EQ(tap.states[0][size_t(j)], e[j]);
  std::vector<float> plain(m.logits(), m.logits() + t * fx.c.vocab);

  // Doubling layer 1's q/k/v input equals doubling its q, k and v weights.
  tap.states.clear();
  tap.scale_layer = 1;
  m.forward(fx.w, tokens.data(), 1, t, &tap);
  std::vector<float> tapped(m.logits(), m.logits() + t * fx.c.vocab);
  const int64_t qkv = fx.c.hidden * (fx.c.heads + 2 * fx.c.kv_heads) * fx.c.head_dim();
  const LayerWeights<float>& lw = fx.w.layers[1];
  for (float* p : {lw.q, lw.k, lw.v})  // q, k, v are contiguous in the table
    for (int64_t i = 0; i < qkv / (fx.c.heads + 2 * fx.c.kv_heads) * (p == lw.q ? fx.c.heads : fx.c.kv_heads); ++i)
      p[i] *= 2;
  m.forward(fx.w, tokens.data(), 1, t);
  double worst = 0, moved = 0;
  for (size_t i = 0; i < tapped.size(); ++i) {
    worst = std::max(worst, double(std::abs(tapped[i] - m.logits()[i])));
    moved = std::max(moved, double(std::abs(tapped[i] - plain[i])));
  }
  EXPECT_LT(worst, 1e-5);
  EXPECT_GT(moved, 1e-3);
}

// bf16 mixed precision on a plan whose bf16 dy scratch (N·max(F, D)) is smaller than one row of
// the head's dlogits (V): the head's backward runs in one-row blocks. Its gradients follow fp32's
// within the bf16 tolerance (test_reference_bf16.py holds the model-level bound; here 5%).
TEST(Llama, Bf16BackwardWithAVocabLargerThanTheScratchFollowsFp32) {
  ModelConfig cfg = small_config();
  cfg.vocab = 700, cfg.ffn = 40, cfg.emb_proj = true;
  Fixture fx(cfg);
  Rng rng(11);
  const int64_t b = 1, t = 8;  // N·max(F, D) = 8·40 = 320 < V = 700
  const auto tokens = test::random_tokens(rng, b * t, fx.c.vocab);
  const auto targets = test::random_targets(rng, b * t, fx.c.vocab);
  ops::Context ctx = ops::Context::cpu();
  std::vector<std::vector<float>> grads;
  for (Precision p : {Precision::kF32, Precision::kBF16}) {
    Llama<float> m(ctx, fx.c, b, t, ForwardMode::kTrain, p);
    AlignedBuffer<float> g(fx.table.total_elems());
    const auto gw = LlamaWeights<float>::bind(fx.table, g.data());
    m.cast_weights(fx.w);
    m.forward(fx.w, tokens.data(), b, t);
    const LossSum l = m.loss(targets.data(), b, t);
    m.backward(fx.w, gw, tokens.data(), targets.data(), b, t, 1.0 / double(l.count));
    grads.emplace_back(g.data(), g.data() + g.size());
  }
  double num = 0, den = 0;
  for (size_t i = 0; i < grads[0].size(); ++i)
    num = std::max(num, double(std::abs(grads[1][i] - grads[0][i]))), den = std::max(den, double(std::abs(grads[0][i])));
  EXPECT_LT(num / den, 0.05);
  EXPECT_GT(num / den, 1e-5);  // the bf16 path ran
}

}  // namespace
}  // namespace osp::model
