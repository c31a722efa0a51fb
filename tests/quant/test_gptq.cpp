// GPTQ (measurement.md §3.11): the inverse Cholesky factor, error no worse than RTN on the
// calibration distribution, dead columns, and the sequential driver on a small model.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/test_context.h"
#include "common/model_fixtures.h"
#include "eval/perplexity.h"
#include "model/llama.h"
#include "ops/cpu/gemm.h"
#include "quant/gptq.h"
#include "quant/ptq.h"
#include "quant/quantizer.h"

namespace osp {
namespace {

TEST(Gptq, InverseCholeskyUpper) {
  const int64_t n = 20;
  Rng rng(61);
  std::vector<double> a(static_cast<size_t>(n * n)), h(static_cast<size_t>(n * n), 0.0);
  for (auto& v : a) v = rng.normal();
  ops::cpu::gemm(true, false, n, n, n, 1.0, a.data(), n, a.data(), n, 0.0, h.data(), n);
  for (int64_t i = 0; i < n; ++i) h[size_t(i * n + i)] += 1.0;
  std::vector<double> u = h;
  ASSERT_TRUE(quant::inverse_cholesky_upper(u, n));
  // H · (Uᵀ·U) = I
  std::vector<double> inv(static_cast<size_t>(n * n)), id(static_cast<size_t>(n * n));
  ops::cpu::gemm(true, false, n, n, n, 1.0, u.data(), n, u.data(), n, 0.0, inv.data(), n);
  ops::cpu::gemm(false, false, n, n, n, 1.0, h.data(), n, inv.data(), n, 0.0, id.data(), n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      EXPECT_NEAR(id[size_t(i * n + j)], i == j ? 1 : 0, 1e-9);
      if (j < i) {
        EXPECT_EQ(u[size_t(i * n + j)], 0.0);
      }
    }
}

// ‖X·(W − Ŵ)ᵀ‖² on correlated inputs: GPTQ ≤ RTN (both with the same clip-searched scales).
TEST(Gptq, ErrorNoWorseThanRtn) {
  const int64_t rows = 48, cols = 160, tokens = 600;
  Rng rng(62);
  std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(tokens * cols));
  for (auto& v : w) v = float(rng.normal());
  std::vector<float> mix(static_cast<size_t>(cols * cols));
  for (auto& v : mix) v = float(rng.normal() / std::sqrt(double(cols)));
  std::vector<float> z(x.size());
  for (auto& v : z) v = float(rng.normal());
  ops::cpu::gemm(false, false, tokens, cols, cols, 1.0f, z.data(), cols, mix.data(), cols, 0.0f, x.data(), cols);
  for (int64_t t = 0; t < tokens; ++t) x[size_t(t * cols + 3)] = 0;  // a dead column
  std::vector<float> h(static_cast<size_t>(cols * cols));
  ops::cpu::gemm(true, false, cols, cols, tokens, 2.0f / float(tokens), x.data(), cols, x.data(), cols, 0.0f, h.data(), cols);
  auto err = [&](const std::vector<float>& q) {
    std::vector<float> d(w.size()), y(static_cast<size_t>(tokens * rows));
    for (size_t i = 0; i < w.size(); ++i) d[i] = w[i] - q[i];
    ops::cpu::gemm(false, true, tokens, rows, cols, 1.0f, x.data(), cols, d.data(), cols, 0.0f, y.data(), rows);
    double s = 0;
    for (float v : y) s += double(v) * v;
    return s;
  };
  std::vector<float> rtn = w, gq = w;
  quant::rtn_quantize_weight(rtn.data(), rows, cols, 4);
  ASSERT_TRUE(quant::gptq_quantize(osp::test::ctx(), gq.data(), rows, cols, h, {4, 0.01, 32}, "test").ok());
  EXPECT_LT(err(gq), 0.8 * err(rtn));
  for (int64_t r = 0; r < rows; ++r) {
    EXPECT_EQ(gq[size_t(r * cols + 3)], 0.0f);
    const float s = quant::weight_scale(w.data() + r * cols, cols, 4);
    for (int64_t j = 0; j < cols; ++j) {
      const float l = gq[size_t(r * cols + j)] / s;
      EXPECT_NEAR(l, std::nearbyint(l), 1e-4);
      EXPECT_GE(l, -8.0001f);
      EXPECT_LE(l, 7.0001f);
    }
  }
}

TEST(Gptq, SequentialDriverBeatsRtnOnASmallModel) {
  model::ModelConfig c;
  c.layers = 2, c.hidden = 32, c.heads = 4, c.kv_heads = 2, c.ffn = 80, c.vocab = 53, c.context = 16;
  c = *model::resolve(c);
  const model::ParamTable table(c);
  Rng rng(63);
  auto p = test::random_parameters<float>(table, c, rng);
  const auto tok = test::random_tokens(rng, 400, c.vocab);
  quant::PtqSettings s;
  s.w_bits = 3, s.a_bits = s.kv_bits = 16;
  s.rotate = quant::Rotate::kFfn;
  s.calib_windows = 16, s.calib_len = 16;
  auto fp = quant::prepare_ptq(osp::test::ctx(), c, table, p.data(), {16, 16, 16}, {});
  auto rtn = quant::prepare_ptq(osp::test::ctx(), c, table, p.data(), s, {});
  s.weights = quant::WeightMethod::kGptq;
  auto gq = quant::prepare_ptq(osp::test::ctx(), c, table, p.data(), s, tok);
  ASSERT_TRUE(fp.ok() && rtn.ok() && gq.ok()) << (gq.ok() ? "" : gq.error().message);
  // GPTQ keeps the logits closer to FP than RTN does (mean squared difference over 20 windows).
  model::Llama<float> m(osp::test::ctx(), c, 20, 16, model::ForwardMode::kInference);
  auto run = [&](quant::QuantizedModel& q) {
    m.forward(q.model.weights(), tok.data(), 20, 16, q.tap.get());
    return std::vector<float>(m.logits(), m.logits() + 320 * c.vocab);
  };
  const auto l_fp = run(*fp), l_rtn = run(*rtn), l_gq = run(*gq);
  double e_rtn = 0, e_gq = 0;
  for (size_t i = 0; i < l_fp.size(); ++i)
    e_rtn += std::pow(double(l_rtn[i] - l_fp[i]), 2), e_gq += std::pow(double(l_gq[i] - l_fp[i]), 2);
  EXPECT_LT(e_gq, e_rtn);
  std::vector<int32_t> few(10, 1);
  EXPECT_FALSE(quant::prepare_ptq(osp::test::ctx(), c, table, p.data(), s, few).ok());
}

}  // namespace
}  // namespace osp
