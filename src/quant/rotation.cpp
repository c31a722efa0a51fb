// Folding and rotations (osp-method.md §3; measurement.md §3.9, §3.10). Offline rotations run in
// f64 and round to fp32 once per step (§3.12).
#include "quant/rotation.h"

#include <algorithm>
#include <vector>

#include "model/fold.h"

namespace osp::quant {

PlainModel fold_to_plain(ops::Context& ctx, const model::ModelConfig& c, const model::ParamTable& /*table*/,
                         const float* params) {
  // The folding arithmetic is model::fold_to_plain_llama's (shared with the exporters); here the
  // result is laid out as a plain, untied model the forward runs directly (quirk Q9: osp unties
  // before any rotation).
  const model::PlainLlama plain = model::fold_to_plain_llama(ctx, c, params);
  model::ModelConfig pc = plain.config;
  pc.tie = false;
  PlainModel out{pc, model::ParamTable(pc), {}};
  out.params = AlignedBuffer<float>(out.table.total_elems());
  for (const auto& p : out.table.params()) {
    const model::PlainTensor* t = plain.find(p.role == model::ParamRole::kHead && plain.config.tie
                                                 ? "model.embed_tokens.weight" : p.name);
    OSP_CHECK(t != nullptr && t->numel() == p.numel, "fold: {} missing or misshapen", p.name);
    std::copy(t->data().begin(), t->data().end(), out.params.data() + p.offset);
  }
  return out;
}

namespace {

// Each of `rows` rows of length n (stride ld, starting at w): a ← M·(s ⊙ a), in f64.
void rotate_rows(ops::Context& ctx, float* w, int64_t rows, int64_t ld, const Hadamard& m,
                 const std::vector<double>* s) {
  const int64_t n = m.size(), chunk = 256;
  std::vector<double> buf(size_t(chunk * n));
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t b = std::min(chunk, rows - r0);
    for (int64_t r = 0; r < b; ++r)
      for (int64_t j = 0; j < n; ++j)
        buf[size_t(r * n + j)] = double(w[(r0 + r) * ld + j]) * (s ? (*s)[size_t(j)] : 1.0);
    m.apply(ctx, TensorView::of(buf.data(), {b, n}));
    for (int64_t r = 0; r < b; ++r)
      for (int64_t j = 0; j < n; ++j) w[(r0 + r) * ld + j] = float(buf[size_t(r * n + j)]);
  }
}

// W (rows, cols) ← R·W with R = M·diag(s) acting on the row index: rotate the rows of Wᵀ.
void rotate_cols(ops::Context& ctx, float* w, int64_t rows, int64_t cols, const Hadamard& m,
                 const std::vector<double>* s) {
  std::vector<float> t(size_t(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) t[size_t(j * rows + i)] = w[i * cols + j];
  rotate_rows(ctx, t.data(), cols, rows, m, s);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) w[i * cols + j] = t[size_t(j * rows + i)];
}

std::vector<double> random_signs(int64_t n, Rng& rng) {
  std::vector<double> s(static_cast<size_t>(n));
  for (auto& x : s) x = rng.uniform() < 0.5 ? -1.0 : 1.0;
  return s;
}

// W (rows, cols) ← W·diag(g): a norm gain folded into the linear that reads it (§3.10 step 1).
void scale_cols(float* w, int64_t rows, int64_t cols, float* gain) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) w[i * cols + j] = float(double(w[i * cols + j]) * double(gain[j]));
}

}  // namespace

void compensate_down(ops::Context& ctx, PlainModel& m, const Hadamard& ffn) {
  const auto w = m.weights();
  for (const auto& lw : w.layers) rotate_rows(ctx, lw.down, m.config.hidden, m.config.ffn, ffn, nullptr);
}

Status rotate_full(ops::Context& ctx, PlainModel& m, const Hadamard& ffn, bool center_embed, Rng& rng) {
  const model::ModelConfig& c = m.config;
  const int64_t d = c.hidden, f = c.ffn, dh = c.head_dim(), qd = c.heads * dh, kvd = c.kv_heads * dh;
  auto r1 = Hadamard::create(d);
  if (!r1) return make_error("full rotation of the residual stream: {}", r1.error().message);
  auto r2 = Hadamard::create(dh);
  if (!r2) return make_error("full rotation of the heads: {}", r2.error().message);
  const auto w = m.weights();
  // Step 1: norm fusion. Mean-centring the embedding is the reference's LayerNorm identity
  // (quirk Q4; not function-preserving for RMSNorm), on by default.
  if (center_embed)
    for (int64_t r = 0; r < c.vocab; ++r) {
      double mean = 0;
      for (int64_t j = 0; j < d; ++j) mean += w.embed[r * d + j];
      mean /= double(d);
      for (int64_t j = 0; j < d; ++j) w.embed[r * d + j] = float(double(w.embed[r * d + j]) - mean);
    }
  for (const auto& lw : w.layers) {
    for (float* p : {lw.q, lw.k, lw.v}) scale_cols(p, p == lw.q ? qd : kvd, d, lw.input_norm);
    for (float* p : {lw.gate, lw.up}) scale_cols(p, f, d, lw.post_attn_norm);
    for (int64_t j = 0; j < d; ++j) lw.input_norm[j] = 1.0f, lw.post_attn_norm[j] = 1.0f;
  }
  scale_cols(w.head, c.vocab, d, w.final_norm);
  for (int64_t j = 0; j < d; ++j) w.final_norm[j] = 1.0f;
  // Step 2: R1 = diag(s)·Mᵀ. Readers W ← W·R1 (rows a ← M·(s ⊙ a)); writers W ← R1ᵀ·W.
  const auto s = random_signs(d, rng);
  rotate_rows(ctx, w.embed, c.vocab, d, *r1, &s);
  rotate_rows(ctx, w.head, c.vocab, d, *r1, &s);
  for (const auto& lw : w.layers) {
    rotate_rows(ctx, lw.q, qd, d, *r1, &s);
    rotate_rows(ctx, lw.k, kvd, d, *r1, &s);
    rotate_rows(ctx, lw.v, kvd, d, *r1, &s);
    rotate_rows(ctx, lw.gate, f, d, *r1, &s);
    rotate_rows(ctx, lw.up, f, d, *r1, &s);
    rotate_cols(ctx, lw.o, d, qd, *r1, &s);
    rotate_cols(ctx, lw.down, d, f, *r1, &s);
  }
  // Step 3: down_proj compensation for the online FFN Hadamard (after R1ᵀ).
  compensate_down(ctx, m, ffn);
  // Step 4: R2 per layer, fresh signs in layer order: W_v,h ← R2ᵀ·W_v,h; W_o[:, h] ← W_o[:, h]·R2.
  for (const auto& lw : w.layers) {
    const auto s2 = random_signs(dh, rng);
    for (int64_t h = 0; h < c.kv_heads; ++h) rotate_cols(ctx, lw.v + h * dh * d, dh, d, *r2, &s2);
    for (int64_t h = 0; h < c.heads; ++h) rotate_rows(ctx, lw.o + h * dh, d, qd, *r2, &s2);
  }
  return {};
}

}  // namespace osp::quant
