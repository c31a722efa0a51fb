// The op parity table (in the spirit of ggml's test-backend-ops): every op × several shapes ×
// compute dtype (fp32, and bf16 as the mixed-precision policy uses it), forward and backward,
// against the fp64 reference — the same op run on f64 tensors, whose kernels the finite-difference
// checks of test_ops_gradcheck.cpp validate. Tolerances come from tests/common/tolerance.h.
//
// "bf16" means what a bf16 run does with the op (docs/engine.md): GEMM operands in bf16 with fp32
// accumulation; norm, SwiGLU, attention and embedding outputs stored in bf16; the op kept in fp32
// where the policy keeps it there (RoPE, softmax, the loss, every backward but the GEMMs'). A
// CUDA backend runs against this same table. Each case prints one line:
//   op shape dtype output: error <= tolerance
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "common/tolerance.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "ops/attention.h"
#include "ops/cross_entropy.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/gemm.h"
#include "ops/hadamard.h"
#include "ops/matmul.h"
#include "ops/optimizer_update.h"
#include "ops/quantize.h"
#include "ops/rmsnorm.h"
#include "ops/rope.h"
#include "ops/row_stats.h"
#include "ops/swiglu.h"

namespace osp::ops {
namespace {

using test::tolerance;
using Vec = std::vector<double>;
constexpr DType kF64 = DType::kF64, kF32 = DType::kF32, kBF16 = DType::kBF16;

struct Output {
  std::string name;
  Vec got, ref;
  double tol;
  double min_error = 0;  // > 0: the error must exceed it (proves bf16 rounding really happened)
};
using CaseFn = std::function<std::vector<Output>(Context&, DType)>;
struct Case {
  std::string op, shape;
  DType dtype;
  CaseFn fn;
};

Vec randn(Rng& rng, int64_t n, double scale = 1.0) {
  Vec v(static_cast<size_t>(n));
  for (auto& x : v) x = rng.normal() * scale;
  return v;
}

// A tensor of `dtype` holding v (rounded once from f64).
Tensor make(Context& ctx, DType dtype, std::initializer_list<int64_t> shape, const Vec& v) {
  Tensor t(dtype, shape);
  cast(ctx, t, TensorView::of(v.data(), {int64_t(v.size())}));
  return t;
}
Vec read(Context& ctx, const TensorView& t) {
  Vec v(static_cast<size_t>(t.numel()));
  cast(ctx, TensorView::of(v.data(), {t.numel()}), t.reshaped({t.numel()}));
  return v;
}

// Under a compute dtype d, GEMM operands and stored activations have dtype d itself (bf16 in a
// bf16 run), everything else fp(d): f32, or f64 for the reference.
DType fp(DType d) { return d == kF64 ? kF64 : kF32; }

CaseFn gemm_case(int64_t m, int64_t n, int64_t k, bool ta, bool tb, double beta) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(m * 131 + n * 7 + k)};
    const Vec a = randn(rng, m * k), b = randn(rng, k * n), c0 = randn(rng, m * n);
    auto run = [&](DType d) {
      Tensor at = ta ? make(ctx, d, {k, m}, a) : make(ctx, d, {m, k}, a);
      Tensor bt = tb ? make(ctx, d, {n, k}, b) : make(ctx, d, {k, n}, b);
      Tensor c = make(ctx, fp(d), {m, n}, c0);
      gemm(ctx, c, at, bt, {.trans_a = ta, .trans_b = tb, .alpha = 0.5, .beta = beta});
      return read(ctx, c);
    };
    Output o{"c", run(dt), run(kF64), tolerance(dt, kF32, k, kF32)};
    if (dt == kBF16) o.min_error = tolerance(kF32, kF32, k, kF32);
    return {o};
  };
}

CaseFn matmul_case(int64_t n, int64_t in, int64_t out) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(n * 31 + in * 7 + out)};
    const Vec x = randn(rng, n * in), w = randn(rng, out * in, 0.1), dy = randn(rng, n * out);
    const Vec dw0 = randn(rng, out * in), dx0 = randn(rng, n * in);
    auto run = [&](DType d) {
      Tensor xt = make(ctx, d, {n, in}, x), wt = make(ctx, d, {out, in}, w);
      Tensor dyt = make(ctx, d, {n, out}, dy), y(fp(d), {n, out});
      Tensor dxt = make(ctx, fp(d), {n, in}, dx0), dwt = make(ctx, fp(d), {out, in}, dw0);
      matmul_forward(ctx, y, xt, wt);
      matmul_backward(ctx, dxt, dwt, dyt, xt, wt, /*accumulate_dx=*/true);
      return std::vector<Vec>{read(ctx, y), read(ctx, dxt), read(ctx, dwt)};
    };
    const auto got = run(dt), ref = run(kF64);
    std::vector<Output> r = {{"y", got[0], ref[0], tolerance(dt, kF32, in, kF32)},
                             {"dx", got[1], ref[1], tolerance(dt, kF32, out, kF32)},
                             {"dw", got[2], ref[2], tolerance(dt, kF32, n, kF32)}};
    if (dt == kBF16) r[0].min_error = tolerance(kF32, kF32, in, kF32);
    return r;
  };
}

CaseFn rmsnorm_case(int64_t n, int64_t d, bool single_scale) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(n * 17 + d + single_scale)};
    const int64_t gn = single_scale ? 1 : d;
    const Vec x = randn(rng, n * d, 3.0), g = randn(rng, gn), dy = randn(rng, n * d);
    const Vec dx0 = randn(rng, n * d), dg0 = randn(rng, gn);
    auto gain = [&](const Tensor& t) { return single_scale ? t.view().prefix({}) : t.view(); };
    auto run = [&](DType d0) {
      const DType f = fp(d0);
      Tensor xt = make(ctx, f, {n, d}, x), gt = make(ctx, f, {gn}, g), y(d0, {n, d}), rstd(f, {n});
      Tensor dyt = make(ctx, f, {n, d}, dy), dxt = make(ctx, f, {n, d}, dx0), dgt = make(ctx, f, {gn}, dg0);
      rmsnorm_forward(ctx, y, rstd, xt, gain(gt), 1e-5f);
      rmsnorm_backward(ctx, dxt, gain(dgt), dyt, xt, rstd, gain(gt));
      return std::vector<Vec>{read(ctx, y), read(ctx, dxt), read(ctx, dgt)};
    };
    const auto got = run(dt), ref = run(kF64);
    return {{"y", got[0], ref[0], tolerance(kF32, kF32, d, dt)},
            {"dx", got[1], ref[1], tolerance(kF32, kF32, d, kF32)},
            {"dgain", got[2], ref[2], tolerance(kF32, kF32, single_scale ? n * d : n, kF32)}};
  };
}

CaseFn embedding_case(int64_t n, int64_t vocab, int64_t d) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(n + vocab + d)};
    std::vector<int32_t> tok(static_cast<size_t>(n));
    for (auto& t : tok) t = int32_t(rng.below(uint64_t(vocab)));
    const Vec table = randn(rng, vocab * d), dout = randn(rng, n * d), dt0 = randn(rng, vocab * d);
    const TensorView tv = TensorView::of(tok.data(), {n});
    auto run = [&](DType d0) {
      Tensor tab = make(ctx, fp(d0), {vocab, d}, table), out(d0, {n, d});
      Tensor dtab = make(ctx, fp(d0), {vocab, d}, dt0), dot = make(ctx, fp(d0), {n, d}, dout);
      embedding_forward(ctx, out, tv, tab);
      embedding_backward(ctx, dtab, dot, tv);
      return std::vector<Vec>{read(ctx, out), read(ctx, dtab)};
    };
    const auto got = run(dt), ref = run(kF64);
    return {{"out", got[0], ref[0], tolerance(kF32, kF32, 1, dt)},
            {"dtable", got[1], ref[1], tolerance(kF32, kF32, n, kF32)}};
  };
}

CaseFn rope_case(int64_t b, int64_t t, int64_t heads, int64_t dh) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(b * t * heads + dh)};
    const RopeTable tab = make_rope_table(t, dh, 10000.0);
    const Vec x = randn(rng, b * t * heads * dh);
    auto run = [&](DType d0, bool backward) {
      Tensor xt = make(ctx, fp(d0), {b * t, heads * dh}, x);
      if (backward) rope_backward(ctx, xt, tab, t);
      else rope_forward(ctx, xt, tab, t);
      return read(ctx, xt);
    };
    const double tol = tolerance(kF32, kF32, 2, kF32);
    return {{"forward", run(dt, false), run(kF64, false), tol}, {"backward", run(dt, true), run(kF64, true), tol}};
  };
}

CaseFn swiglu_case(int64_t n) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(n)};
    const Vec gate = randn(rng, n, 3.0), up = randn(rng, n), dh = randn(rng, n);
    auto run = [&](DType d0) {
      const DType f = fp(d0);
      Tensor g = make(ctx, f, {n}, gate), u = make(ctx, f, {n}, up), h(d0, {n});
      Tensor dht = make(ctx, f, {n}, dh), dg(f, {n}), du(f, {n});
      swiglu_forward(ctx, h, g, u);
      swiglu_backward(ctx, dg, du, dht, g, u);
      return std::vector<Vec>{read(ctx, h), read(ctx, dg), read(ctx, du)};
    };
    const auto got = run(dt), ref = run(kF64);
    return {{"h", got[0], ref[0], tolerance(kF32, kF32, 4, dt)},
            {"dgate", got[1], ref[1], tolerance(kF32, kF32, 8, kF32)},
            {"dup", got[2], ref[2], tolerance(kF32, kF32, 4, kF32)}};
  };
}

CaseFn cross_entropy_case(int64_t n, int64_t vocab) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(n * vocab)};
    const Vec logits = randn(rng, n * vocab, 4.0);
    std::vector<int32_t> tg(static_cast<size_t>(n));
    for (auto& t : tg) t = rng.uniform() < 0.2 ? kIgnoreIndex : int32_t(rng.below(uint64_t(vocab)));
    const TensorView tv = TensorView::of(tg.data(), {n});
    auto run = [&](DType d0) {
      Tensor l = make(ctx, fp(d0), {n, vocab}, logits), lse(fp(d0), {n}), dl(fp(d0), {n, vocab});
      Vec nll(static_cast<size_t>(n));
      cross_entropy_forward(ctx, TensorView::of(nll.data(), {n}), lse, l, tv);
      cross_entropy_backward(ctx, dl, l, lse, tv, 1.0 / double(n));
      return std::vector<Vec>{nll, read(ctx, dl)};
    };
    const auto got = run(dt), ref = run(kF64);
    return {{"nll", got[0], ref[0], tolerance(kF32, kF32, vocab, kF32)},
            {"dlogits", got[1], ref[1], tolerance(kF32, kF32, vocab, kF32)}};
  };
}

CaseFn attention_case(AttentionShape s) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(s.batch * 1000 + s.seq * 10 + s.heads)};
    const int64_t n = s.batch * s.seq, qd = s.heads * s.head_dim, kvd = s.kv_heads * s.head_dim;
    const Vec q = randn(rng, n * qd), k = randn(rng, n * kvd), v = randn(rng, n * kvd), dout = randn(rng, n * qd);
    auto run = [&](DType d0) {
      const DType f = fp(d0);
      Tensor qt = make(ctx, f, {n, qd}, q), kt = make(ctx, f, {n, kvd}, k), vt = make(ctx, f, {n, kvd}, v);
      Tensor out(d0, {n, qd}), probs(f, {s.batch * s.heads * s.seq, s.seq});
      Tensor work(f, {attention_workspace_elems(ctx, s)}), dot = make(ctx, f, {n, qd}, dout);
      Tensor dq(f, {n, qd}), dk(f, {n, kvd}), dv(f, {n, kvd});
      attention_forward(ctx, out, probs, qt, kt, vt, work, s);
      attention_backward(ctx, dq, dk, dv, dot, probs, qt, kt, vt, work, s);
      return std::vector<Vec>{read(ctx, out), read(ctx, dq), read(ctx, dk), read(ctx, dv)};
    };
    const auto got = run(dt), ref = run(kF64);
    // Forward: the score products (Dh terms), then P·V (T terms); backward chains two more.
    const int64_t kf = s.head_dim + s.seq, kb = 2 * (s.head_dim + s.seq);
    return {{"out", got[0], ref[0], tolerance(kF32, kF32, kf, dt)},
            {"dq", got[1], ref[1], tolerance(kF32, kF32, kb, kF32)},
            {"dk", got[2], ref[2], tolerance(kF32, kF32, kb, kF32)},
            {"dv", got[3], ref[3], tolerance(kF32, kF32, kb, kF32)}};
  };
}

// Incremental decoding: T new queries per sequence at positions past..past+T−1 over S = past + T
// cached keys/values, against the last T rows of the full causal attention over S rows in f64
// (the queries of the first past rows are random too and dropped), so the reference is the
// uncached op.
CaseFn attention_cached_case(AttentionShape s) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(s.batch * 977 + s.seq * 13 + s.past)};
    const int64_t S = s.kv_len(), qd = s.heads * s.head_dim, kvd = s.kv_heads * s.head_dim;
    const Vec qf = randn(rng, s.batch * S * qd), k = randn(rng, s.batch * S * kvd), v = randn(rng, s.batch * S * kvd);
    Vec q;  // the new rows of each sequence
    for (int64_t b = 0; b < s.batch; ++b)
      q.insert(q.end(), qf.begin() + (b * S + s.past) * qd, qf.begin() + (b + 1) * S * qd);
    const DType f = fp(dt);
    Tensor qt = make(ctx, f, {s.batch * s.seq, qd}, q), kt = make(ctx, f, {s.batch * S, kvd}, k);
    Tensor vt = make(ctx, f, {s.batch * S, kvd}, v), out(dt, {s.batch * s.seq, qd});
    Tensor work(f, {attention_workspace_elems(ctx, s)});
    attention_forward(ctx, out, TensorView(), qt, kt, vt, work, s);
    const AttentionShape full{s.batch, S, s.heads, s.kv_heads, s.head_dim};
    Tensor qr = make(ctx, kF64, {s.batch * S, qd}, qf), kr = make(ctx, kF64, {s.batch * S, kvd}, k);
    Tensor vr = make(ctx, kF64, {s.batch * S, kvd}, v), outr(kF64, {s.batch * S, qd});
    Tensor workr(kF64, {attention_workspace_elems(ctx, full)});
    attention_forward(ctx, outr, TensorView(), qr, kr, vr, workr, full);
    const Vec all = read(ctx, outr);
    Vec ref;
    for (int64_t b = 0; b < s.batch; ++b)
      ref.insert(ref.end(), all.begin() + (b * S + s.past) * qd, all.begin() + (b + 1) * S * qd);
    return {{"out", read(ctx, out), ref, tolerance(kF32, kF32, s.head_dim + S, dt)}};
  };
}

CaseFn hadamard_case(int64_t rows, int64_t n, int k, std::vector<int8_t> hk) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(rows * n)};
    const Vec x = randn(rng, rows * n);
    auto run = [&](DType d0) {
      Tensor t = make(ctx, fp(d0), {rows, n}, x);
      hadamard_transform(ctx, t, hk, k);
      return read(ctx, t);
    };
    // log2(n/K) butterfly levels, then K terms of the H_K product, then the division.
    const int64_t levels = int64_t(std::log2(double(n / k))) + k + 1;
    return {{"rows", run(dt), run(kF64), tolerance(kF32, kF32, levels, kF32)}};
  };
}

// Inputs on exact quantization levels ± 0.25 (no ties, exact scales): fp32 must equal f64.
CaseFn fake_quant_case(int64_t rows, int64_t n) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(rows + n)};
    Vec x(static_cast<size_t>(rows * n));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j)
        x[size_t(r * n + j)] = j == 0 ? 0.0 : j == 1 ? 15.0 : double(rng.below(15)) + (rng.uniform() < 0.5 ? 0.25 : 0.75);
    auto run = [&](DType d0, bool group) {
      Tensor t = make(ctx, fp(d0), {rows, n}, x);
      if (group) fake_quant_per_group(ctx, t, n, 4);
      else fake_quant_per_token(ctx, t, 4);
      return read(ctx, t);
    };
    return {{"per_token", run(dt, false), run(kF64, false), 0.0}, {"per_group", run(dt, true), run(kF64, true), 0.0}};
  };
}

CaseFn sum_squares_case(int64_t n) {
  return [=](Context& ctx, DType dt) -> std::vector<Output> {
    Rng rng{uint64_t(n)};
    const Vec x = randn(rng, n);
    auto run = [&](DType d0) {
      Tensor t = make(ctx, fp(d0), {n}, x);
      Tensor t2 = make(ctx, fp(d0), {n}, x);
      scale(ctx, t2, -0.75);
      return Vec{sum_squares(ctx, t), read(ctx, t2)[size_t(n / 2)]};
    };
    return {{"sum_squares, scale", run(dt), run(kF64), tolerance(kF32, DType::kF64, n, kF32)}};
  };
}

// Casts against the scalar round-to-nearest-even of core/dtype.h, bit for bit.
CaseFn cast_case(int64_t n) {
  return [=](Context& ctx, DType) -> std::vector<Output> {
    Rng rng{uint64_t(n)};
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = float(rng.normal() * std::exp(4 * rng.normal()));
    std::vector<BFloat16> h(static_cast<size_t>(n));
    cast(ctx, TensorView::of(h.data(), {n}), TensorView::of(x.data(), {n}));
    std::vector<float> back(static_cast<size_t>(n));
    cast(ctx, TensorView::of(back.data(), {n}), TensorView::of(h.data(), {n}));
    Vec got(static_cast<size_t>(n)), ref(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) got[size_t(i)] = back[size_t(i)], ref[size_t(i)] = round_bf16(x[size_t(i)]);
    return {{"f32 -> bf16 -> f32", got, ref, 0.0}};
  };
}

// The optimizer updates are fp32 ops; their reference is the spec's formula in double.
CaseFn optimizer_case(int64_t n) {
  return [=](Context& ctx, DType) -> std::vector<Output> {
    Rng rng{uint64_t(n)};
    std::vector<float> w(static_cast<size_t>(n)), g(static_cast<size_t>(n)), m(static_cast<size_t>(n)), v(static_cast<size_t>(n)), u(static_cast<size_t>(n)), mom(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      w[i] = float(rng.normal()), g[i] = float(rng.normal()), m[i] = float(0.1 * rng.normal()),
      v[i] = float(0.01 * std::abs(rng.normal())), mom[i] = float(rng.normal());
    const std::vector<float> w0 = w, m0 = m, v0 = v, mom0 = mom;
    const AdamWStep s{0.999f, 0.9f, 0.95f, 0.1f, 0.05f, 0.002f, 0.3f, 1e-8f};
    auto view = [n](std::vector<float>& x) { return TensorView::of(x.data(), {n}); };
    adamw_update(ctx, view(w), view(g), view(m), view(v), s);
    nesterov_momentum(ctx, view(u), view(mom), view(g), 0.95f);
    std::vector<float> wm = w0;
    muon_apply(ctx, view(wm), view(u), 0.01f, 4.0f, 0.1f);
    Vec got, ref;
    for (int64_t i = 0; i < n; ++i) {
      const double mi = 0.9 * m0[i] + 0.1 * g[i], vi = 0.95 * v0[i] + 0.05 * double(g[i]) * g[i];
      const double wi = double(w0[i]) * 0.999 - 0.002 * mi / (std::sqrt(vi) / 0.3 + 1e-8);
      const double mo = g[i] + 0.95 * mom0[i], ui = g[i] + 0.95 * mo;
      const double wmi = w0[i] - 0.01 * (4.0 * ui + 0.1 * w0[i]);
      for (double x : {double(w[i]), double(m[i]), double(v[i]), double(mom[i]), double(u[i]), double(wm[i])}) got.push_back(x);
      for (double x : {wi, mi, vi, mo, ui, wmi}) ref.push_back(x);
    }
    return {{"adamw, momentum, muon step", got, ref, tolerance(kF32, kF32, 8, kF32)}};
  };
}

CaseFn row_stats_case(int64_t rows, int64_t d) {
  return [=](Context& ctx, DType) -> std::vector<Output> {
    Rng rng{uint64_t(rows * d)};
    std::vector<float> x(static_cast<size_t>(rows * d));
    for (auto& v : x) v = float(rng.normal() * (rng.uniform() < 0.05 ? 8 : 1));
    Vec k(static_cast<size_t>(rows)), ratio(static_cast<size_t>(rows)), cmax(static_cast<size_t>(d), 0.0);
    std::vector<int32_t> ch(static_cast<size_t>(rows));
    const TensorView xv = TensorView::of(x.data(), {rows, d});
    activation_row_stats(ctx, TensorView::of(k.data(), {rows}), TensorView::of(ratio.data(), {rows}),
                         TensorView::of(ch.data(), {rows}), xv);
    column_abs_max(ctx, TensorView::of(cmax.data(), {d}), xv);
    Vec got = k, ref;
    got.insert(got.end(), ratio.begin(), ratio.end());
    got.insert(got.end(), cmax.begin(), cmax.end());
    Vec rr, cm(static_cast<size_t>(d), 0.0);
    for (int64_t r = 0; r < rows; ++r) {  // the definitions of measurement.md §1.4, directly
      double mu = 0, s2 = 0, s4 = 0, mx = 0;
      for (int64_t j = 0; j < d; ++j) mu += x[size_t(r * d + j)] / double(d);
      for (int64_t j = 0; j < d; ++j) {
        const double v = x[size_t(r * d + j)];
        s2 += (v - mu) * (v - mu), s4 += v * v * v * v, mx = std::max(mx, std::abs(v));
        cm[size_t(j)] = std::max(cm[size_t(j)], std::abs(v));
      }
      const double var = s2 / double(d - 1);
      ref.push_back(s4 / double(d) / (var * var) - 3.0);
      double ss = 0;
      for (int64_t j = 0; j < d; ++j) ss += double(x[size_t(r * d + j)]) * x[size_t(r * d + j)];
      rr.push_back(mx / std::sqrt(ss / double(d)));
    }
    ref.insert(ref.end(), rr.begin(), rr.end());
    ref.insert(ref.end(), cm.begin(), cm.end());
    return {{"kurtosis, max/rms, channel max", got, ref, tolerance(DType::kF64, DType::kF64, d, DType::kF64)}};
  };
}

std::vector<Case> table() {
  std::vector<Case> t;
  auto add = [&](const std::string& op, const std::string& shape, CaseFn fn, std::vector<DType> dtypes = {kF32, kBF16}) {
    for (DType d : dtypes) t.push_back({op, shape, d, fn});
  };
  add("gemm", "7x6x5", gemm_case(7, 6, 5, false, false, 0.0));
  add("gemm", "64x80x96_tb", gemm_case(64, 80, 96, false, true, 1.0));
  add("gemm", "130x70x384_ta", gemm_case(130, 70, 384, true, false, -0.5));
  add("gemm", "96x128x1024_ta_tb", gemm_case(96, 128, 1024, true, true, 1.0));
  add("matmul", "7x5x6", matmul_case(7, 5, 6));
  add("matmul", "64x96x80", matmul_case(64, 96, 80));
  add("matmul", "300x384x128", matmul_case(300, 384, 128));
  add("rmsnorm", "6x9", rmsnorm_case(6, 9, false));
  add("rmsnorm", "130x384", rmsnorm_case(130, 384, false));
  add("ssnorm", "6x9", rmsnorm_case(6, 9, true));
  add("ssnorm", "130x384", rmsnorm_case(130, 384, true));
  add("embedding", "7x5x4", embedding_case(7, 5, 4));
  add("embedding", "500x300x64", embedding_case(500, 300, 64));
  add("rope", "2x5x3x8", rope_case(2, 5, 3, 8));
  add("rope", "2x130x4x64", rope_case(2, 130, 4, 64));
  add("swiglu", "40", swiglu_case(40));
  add("swiglu", "70000", swiglu_case(70000));
  add("cross_entropy", "6x11", cross_entropy_case(6, 11));
  add("cross_entropy", "64x4096", cross_entropy_case(64, 4096));
  add("attention", "2x5_h2kv2_d4", attention_case({2, 5, 2, 2, 4}));
  add("attention", "1x70_h4kv2_d16", attention_case({1, 70, 4, 2, 16}));
  add("attention", "2x130_h6kv2_d64", attention_case({2, 130, 6, 2, 64}));
  add("attention_cached", "1x1_past0_h4kv2_d16", attention_cached_case({1, 1, 4, 2, 16, 0}));
  add("attention_cached", "1x1_past37_h4kv2_d16", attention_cached_case({1, 1, 4, 2, 16, 37}));
  add("attention_cached", "2x5_past9_h2kv2_d4", attention_cached_case({2, 5, 2, 2, 4, 9}));
  add("attention_cached", "1x70_past100_h6kv2_d64", attention_cached_case({1, 70, 6, 2, 64, 100}));
  add("attention_cached", "2x1_past200_h4kv1_d32", attention_cached_case({2, 1, 4, 1, 32, 200}));
  add("hadamard", "3x64", hadamard_case(3, 64, 1, {1}));
  add("hadamard", "5x48_k12", hadamard_case(5, 48, 12, [] {
        // H_12 by Paley's construction is what quant/ builds; any ±1 matrix exercises the op.
        std::vector<int8_t> h(144);
        for (int i = 0; i < 144; ++i) h[size_t(i)] = ((i * 7 + i / 12) % 3) ? 1 : -1;
        return h;
      }()));
  add("fake_quant", "8x32", fake_quant_case(8, 32));
  add("sum_squares", "10000", sum_squares_case(10000));
  add("cast", "4096", cast_case(4096), {kBF16});
  add("optimizer_update", "5000", optimizer_case(5000), {kF32});
  add("row_stats", "16x384", row_stats_case(16, 384), {kF32});
  return t;
}

class OpParity : public ::testing::TestWithParam<Case> {};

TEST_P(OpParity, MatchesTheF64Reference) {
  const Case& c = GetParam();
  Context ctx = Context::cpu();
  for (const Output& o : c.fn(ctx, c.dtype)) {
    ASSERT_EQ(o.got.size(), o.ref.size()) << o.name;
    const double err = test::relative_error(o.got, o.ref);
    std::printf("  %-16s %-20s %-5s %-28s %9.2e <= %9.2e%s\n", c.op.c_str(), c.shape.c_str(),
                std::string(dtype_name(c.dtype)).c_str(), o.name.c_str(), err, o.tol,
                o.min_error > 0 ? " (and above the fp32 tolerance)" : "");
    EXPECT_LE(err, o.tol) << c.op << " " << c.shape << " " << dtype_name(c.dtype) << " " << o.name;
    if (o.min_error > 0) {
      EXPECT_GT(err, o.min_error) << o.name << ": no bf16 rounding happened";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, OpParity, ::testing::ValuesIn(table()), [](const auto& param_info) {
  const Case& c = param_info.param;
  return c.op + "_" + c.shape + "_" + std::string(dtype_name(c.dtype));
});

}  // namespace
}  // namespace osp::ops
