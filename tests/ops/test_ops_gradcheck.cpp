// Finite-difference checks (double precision) of every CPU op's backward pass, plus forward
// checks against naive loops written here from the spec's formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/gradcheck.h"
#include "core/tensor.h"
#include "ops/attention.h"
#include "ops/cpu/vec_math.h"
#include "ops/cross_entropy.h"
#include "ops/embedding.h"
#include "ops/matmul.h"
#include "ops/rmsnorm.h"
#include "ops/rope.h"
#include "ops/swiglu.h"

namespace osp::ops {
namespace {

using test::expect_gradient_matches;
using test::random_vector;
using test::weighted_sum;
using Vec = std::vector<double>;

// A view of a test vector as a tensor of the given shape.
TensorView v(Vec& x, std::initializer_list<int64_t> shape) { return TensorView::of(x.data(), shape); }
TensorView iv(const std::vector<int32_t>& x) { return TensorView::of(x.data(), {int64_t(x.size())}); }

TEST(OpsGrad, Matmul) {
  Context ctx = Context::cpu();
  Rng rng(1);
  const int64_t n = 7, in = 5, out = 6;
  Vec x = random_vector(rng, n * in), w = random_vector(rng, out * in), wy = random_vector(rng, n * out);
  Vec y(n * out), dx(n * in), dw(out * in, 0.0);
  auto loss = [&] {
    matmul_forward(ctx, v(y, {n, out}), v(x, {n, in}), v(w, {out, in}));
    return weighted_sum(wy, y.data());
  };
  matmul_backward(ctx, v(dx, {n, in}), v(dw, {out, in}), v(wy, {n, out}), v(x, {n, in}), v(w, {out, in}));
  expect_gradient_matches("dx", x.data(), x.size(), dx.data(), loss);
  expect_gradient_matches("dw", w.data(), w.size(), dw.data(), loss);
  // Forward against the definition y[i][o] = Σ_k x[i][k]·w[o][k].
  loss();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < out; ++o) {
      double s = 0;
      for (int64_t k = 0; k < in; ++k) s += x[i * in + k] * w[o * in + k];
      EXPECT_NEAR(y[i * out + o], s, 1e-12);
    }
}

class RmsNormGrad : public ::testing::TestWithParam<bool> {};

TEST_P(RmsNormGrad, MatchesFiniteDifferences) {
  const bool single_scale = GetParam();
  Context ctx = Context::cpu();
  Rng rng(2);
  const int64_t n = 6, d = 9;
  const float eps = 1e-5f;
  Vec x = random_vector(rng, n * d), g = random_vector(rng, single_scale ? 1 : d);
  Vec wy = random_vector(rng, n * d), y(n * d), rstd(n), dx(n * d, 0.0), dg(g.size(), 0.0);
  const auto gain_view = [&](Vec& t) { return single_scale ? TensorView::of(t.data(), std::span<const int64_t>()) : v(t, {d}); };
  auto loss = [&] {
    rmsnorm_forward(ctx, v(y, {n, d}), v(rstd, {n}), v(x, {n, d}), gain_view(g), eps);
    return weighted_sum(wy, y.data());
  };
  loss();
  rmsnorm_backward(ctx, v(dx, {n, d}), gain_view(dg), v(wy, {n, d}), v(x, {n, d}), v(rstd, {n}), gain_view(g));
  expect_gradient_matches("dx", x.data(), x.size(), dx.data(), loss);
  expect_gradient_matches("dgain", g.data(), g.size(), dg.data(), loss);
  // Forward against y_j = x_j / sqrt(mean(x²) + eps) · g_j.
  loss();
  for (int64_t i = 0; i < n; ++i) {
    double ms = 0;
    for (int64_t j = 0; j < d; ++j) ms += x[i * d + j] * x[i * d + j] / d;
    for (int64_t j = 0; j < d; ++j)
      EXPECT_NEAR(y[i * d + j], x[i * d + j] / std::sqrt(ms + double(eps)) * g[single_scale ? 0 : j], 1e-12);
  }
}
INSTANTIATE_TEST_SUITE_P(Kinds, RmsNormGrad, ::testing::Values(false, true));

TEST(OpsGrad, EmbeddingWithRepeatedTokens) {
  Context ctx = Context::cpu();
  Rng rng(3);
  const int64_t vocab = 5, d = 4;
  const std::vector<int32_t> tokens = {1, 3, 1, 0, 4, 1, 3};
  const int64_t n = int64_t(tokens.size());
  Vec table = random_vector(rng, vocab * d), wy = random_vector(rng, n * d), y(n * d);
  Vec dtable(vocab * d, 0.0);
  auto loss = [&] {
    embedding_forward(ctx, v(y, {n, d}), iv(tokens), v(table, {vocab, d}));
    return weighted_sum(wy, y.data());
  };
  embedding_backward(ctx, v(dtable, {vocab, d}), v(wy, {n, d}), iv(tokens));
  expect_gradient_matches("dtable", table.data(), table.size(), dtable.data(), loss);
  EXPECT_EQ(dtable[2 * d], 0.0);  // token 2 never appears
}

TEST(OpsGrad, RopeForwardAndBackward) {
  Context ctx = Context::cpu();
  Rng rng(4);
  const int64_t b = 2, t = 5, heads = 3, dh = 8;
  const double theta = 500.0;
  const RopeTable tab = make_rope_table(t, dh, theta);
  const Vec x0 = random_vector(rng, b * t * heads * dh);
  Vec x = x0, wy = random_vector(rng, x.size());
  // Forward against the half-split formula with the angle p·θ^(−2i/Dh).
  Vec y = x0;
  rope_forward(ctx, v(y, {b * t, heads * dh}), tab, t);
  for (int64_t s = 0; s < b; ++s)
    for (int64_t p = 0; p < t; ++p)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < dh / 2; ++i) {
          const double a = p * std::pow(theta, -2.0 * i / dh);
          const double* z = &x0[((s * t + p) * heads + h) * dh];
          const double* r = &y[((s * t + p) * heads + h) * dh];
          EXPECT_NEAR(r[i], z[i] * std::cos(a) - z[i + dh / 2] * std::sin(a), 1e-5);
          EXPECT_NEAR(r[i + dh / 2], z[i + dh / 2] * std::cos(a) + z[i] * std::sin(a), 1e-5);
        }
  Vec dx = wy;
  rope_backward(ctx, v(dx, {b * t, heads * dh}), tab, t);
  auto loss = [&] {
    Vec z = x;
    rope_forward(ctx, v(z, {b * t, heads * dh}), tab, t);
    return weighted_sum(wy, z.data());
  };
  expect_gradient_matches("dx", x.data(), x.size(), dx.data(), loss);
}

TEST(OpsGrad, SwiGlu) {
  Context ctx = Context::cpu();
  Rng rng(5);
  const int64_t n = 40;
  Vec gate = random_vector(rng, n, 2.0), up = random_vector(rng, n), wy = random_vector(rng, n);
  Vec h(n), dgate(n), dup(n);
  auto loss = [&] {
    swiglu_forward(ctx, v(h, {n}), v(gate, {n}), v(up, {n}));
    return weighted_sum(wy, h.data());
  };
  swiglu_backward(ctx, v(dgate, {n}), v(dup, {n}), v(wy, {n}), v(gate, {n}), v(up, {n}));
  expect_gradient_matches("dgate", gate.data(), n, dgate.data(), loss);
  expect_gradient_matches("dup", up.data(), n, dup.data(), loss);
  loss();
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(h[i], gate[i] / (1 + std::exp(-gate[i])) * up[i], 1e-12);
}

TEST(OpsGrad, CrossEntropyWithIgnoredTargets) {
  Context ctx = Context::cpu();
  Rng rng(6);
  const int64_t n = 6, vocab = 11;
  const std::vector<int32_t> targets = {3, kIgnoreIndex, 0, 10, kIgnoreIndex, 7};
  Vec logits = random_vector(rng, n * vocab, 3.0), lse(n), nll(n), dlogits(n * vocab);
  const double scale = 1.0 / 4.0;  // four counted targets
  auto loss = [&] {
    return scale * cross_entropy_forward(ctx, v(nll, {n}), v(lse, {n}), v(logits, {n, vocab}), iv(targets));
  };
  const double l = loss();
  cross_entropy_backward(ctx, v(dlogits, {n, vocab}), v(logits, {n, vocab}), v(lse, {n}), iv(targets), scale);
  expect_gradient_matches("dlogits", logits.data(), logits.size(), dlogits.data(), loss);
  double expect = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (targets[i] == kIgnoreIndex) {
      EXPECT_EQ(nll[i], 0.0);
      continue;
    }
    double z = 0;
    for (int64_t j = 0; j < vocab; ++j) z += std::exp(logits[i * vocab + j]);
    expect += std::log(z) - logits[i * vocab + targets[i]];
  }
  EXPECT_NEAR(l, expect * scale, 1e-12);
}

// Naive causal GQA attention from the spec's formulas (§1.4), for the forward check.
Vec naive_attention(const Vec& q, const Vec& k, const Vec& v, const AttentionShape& s) {
  const int64_t t = s.seq, dh = s.head_dim, group = s.heads / s.kv_heads;
  Vec out(s.batch * t * s.heads * dh, 0.0);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t a = 0; a < s.heads; ++a) {
      const int64_t g = a / group;
      for (int64_t i = 0; i < t; ++i) {
        std::vector<double> sc(i + 1);
        double mx = -1e300, sum = 0;
        for (int64_t j = 0; j <= i; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < dh; ++d)
            dot += q[((b * t + i) * s.heads + a) * dh + d] * k[((b * t + j) * s.kv_heads + g) * dh + d];
          sc[j] = dot / std::sqrt(double(dh));
          mx = std::max(mx, sc[j]);
        }
        for (auto& x : sc) sum += (x = std::exp(x - mx));
        for (int64_t j = 0; j <= i; ++j)
          for (int64_t d = 0; d < dh; ++d)
            out[((b * t + i) * s.heads + a) * dh + d] += sc[j] / sum * v[((b * t + j) * s.kv_heads + g) * dh + d];
      }
    }
  return out;
}

class AttentionGrad : public ::testing::TestWithParam<AttentionShape> {};

TEST_P(AttentionGrad, MatchesNaiveAndFiniteDifferences) {
  const AttentionShape s = GetParam();
  Context ctx = Context::cpu();
  Rng rng(7 + s.seq);
  const int64_t nq = s.batch * s.seq * s.heads * s.head_dim;
  const int64_t nk = s.batch * s.seq * s.kv_heads * s.head_dim;
  Vec q = random_vector(rng, nq), k = random_vector(rng, nk), v = random_vector(rng, nk);
  Vec wy = random_vector(rng, nq), out(nq), probs(s.batch * s.heads * s.seq * s.seq);
  Vec work(attention_workspace_elems(ctx, s));
  const int64_t n = s.batch * s.seq, qd = s.heads * s.head_dim, kvd = s.kv_heads * s.head_dim;
  const TensorView qv = TensorView::of(q.data(), {n, qd}), kv = TensorView::of(k.data(), {n, kvd});
  const TensorView vv = TensorView::of(v.data(), {n, kvd}), wk = TensorView::of(work.data(), {int64_t(work.size())});
  auto loss = [&] {
    attention_forward(ctx, TensorView::of(out.data(), {n, qd}), TensorView(), qv, kv, vv, wk, s);
    return weighted_sum(wy, out.data());
  };
  attention_forward(ctx, TensorView::of(out.data(), {n, qd}), TensorView::of(probs.data(), {int64_t(probs.size())}),
                    qv, kv, vv, wk, s);
  const Vec ref = naive_attention(q, k, v, s);
  for (int64_t i = 0; i < nq; ++i) ASSERT_NEAR(out[i], ref[i], 1e-12) << i;
  Vec dq(nq), dk(nk), dv(nk);
  attention_backward(ctx, TensorView::of(dq.data(), {n, qd}), TensorView::of(dk.data(), {n, kvd}),
                     TensorView::of(dv.data(), {n, kvd}), TensorView::of(wy.data(), {n, qd}),
                     TensorView::of(probs.data(), {int64_t(probs.size())}), qv, kv, vv, wk, s);
  expect_gradient_matches("dq", q.data(), nq, dq.data(), loss);
  expect_gradient_matches("dk", k.data(), nk, dk.data(), loss);
  expect_gradient_matches("dv", v.data(), nk, dv.data(), loss);
}

// seq 70 and 130 cross the 64-row block boundary of the causal blocking.
INSTANTIATE_TEST_SUITE_P(Shapes, AttentionGrad,
                         ::testing::Values(AttentionShape{2, 5, 2, 2, 4}, AttentionShape{1, 70, 4, 2, 4},
                                           AttentionShape{2, 9, 6, 2, 6}, AttentionShape{1, 130, 3, 1, 2}));

}  // namespace
}  // namespace osp::ops

namespace osp::ops::cpu {
namespace {

TEST(VecMath, FastExpWithinTwoUlp) {
  double worst = 0;
  for (float x = -87.0f; x < 88.7f; x += 0.0037f) {
    const double ref = std::exp(double(x));
    const double ulp = double(std::nextafter(float(ref), INFINITY)) - double(float(ref));
    worst = std::max(worst, std::abs(double(fast_exp(x)) - ref) / ulp);
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(fast_exp(-200.0f), 0.0f);
  EXPECT_EQ(fast_exp(-INFINITY), 0.0f);
  EXPECT_EQ(fast_exp(0.0f), 1.0f);
}

}  // namespace
}  // namespace osp::ops::cpu
