// Folding OSP's extras away (osp-method.md §3); products in double, rounded to fp32 once.
#include "model/fold.h"

#include <fmt/format.h>

#include <algorithm>

#include "ops/matmul.h"

namespace osp::model {
namespace {

using model::ParamInfo;
using model::ParamRole;

std::vector<uint64_t> shape_of(const ParamInfo& p) { return {p.shape.begin(), p.shape.end()}; }

std::vector<double> to_double(const float* p, int64_t n) { return std::vector<double>(p, p + n); }

// y (rows, D) = x (rows, D) · wᵀ with w (D, D), all in double, rounded to fp32 once.
std::vector<float> times_transposed(ops::Context& ctx, const float* x, int64_t rows, const std::vector<double>& w,
                                    int64_t d) {
  const std::vector<double> xd = to_double(x, rows * d);
  std::vector<double> y(size_t(rows * d));
  ops::matmul_forward(ctx, TensorView::of(y.data(), {rows, d}), TensorView::of(xd.data(), {rows, d}),
                      TensorView::of(w.data(), {d, d}));
  return std::vector<float>(y.begin(), y.end());
}

}  // namespace

int64_t PlainTensor::numel() const {
  int64_t n = 1;
  for (uint64_t s : shape) n *= int64_t(s);
  return n;
}

const PlainTensor* PlainLlama::find(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

PlainLlama fold_to_plain_llama(ops::Context& ctx, const model::ModelConfig& c, const float* params) {
  const model::ParamTable table(c);
  const int64_t d = c.hidden, v = c.vocab;
  PlainLlama out;
  out.config = c;
  out.config.norm = model::NormKind::kRms;
  out.config.emb_proj = false;
  const ParamInfo* embed = table.find("model.embed_tokens.weight");
  const float* e = params + embed->offset;
  for (const auto& p : table.params()) {
    const float* src = params + p.offset;
    PlainTensor t{p.name, shape_of(p), {}, {}};
    switch (p.role) {
      case ParamRole::kEmbProj:
      case ParamRole::kHeadProj:
        continue;  // folded into the embedding / head below
      case ParamRole::kEmbedding:
        if (c.emb_proj) {  // E' = E · R1ᵀ
          const ParamInfo* r1 = table.find("model.embed_proj.weight");
          t.owned = times_transposed(ctx, e, v, to_double(params + r1->offset, d * d), d);
        } else {
          t.view = {src, size_t(p.numel)};
        }
        break;
      case ParamRole::kNormGain:
        if (c.single_scale()) {  // the scalar γ becomes D copies (exact, §3)
          t.shape = {uint64_t(d)};
          t.owned.assign(size_t(d), src[0]);
        } else {
          t.view = {src, size_t(p.numel)};
        }
        break;
      default:
        t.view = {src, size_t(p.numel)};
    }
    out.tensors.push_back(std::move(t));
  }
  if (c.emb_proj) {
    // W' = W_head · R2 = W_head · (R2ᵀ)ᵀ; W_head is E itself when tied.
    const ParamInfo* r2 = table.find("model.head_proj.weight");
    const float* r2p = params + r2->offset;
    std::vector<double> r2t(size_t(d * d));
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < d; ++j) r2t[size_t(i * d + j)] = r2p[j * d + i];
    const float* head = c.tie ? e : params + table.find("lm_head.weight")->offset;
    PlainTensor h{"lm_head.weight", {uint64_t(v), uint64_t(d)}, times_transposed(ctx, head, v, r2t, d), {}};
    if (c.tie) {
      out.config.tie = false;
      out.notices.push_back("tied embeddings with EmbProj export untied: E·R1ᵀ and E·R2 differ (osp-method.md §3)");
      out.tensors.push_back(std::move(h));
    } else {
      for (auto& t : out.tensors)
        if (t.name == "lm_head.weight") t = std::move(h);
    }
  }
  // Hugging Face order: lm_head last (the table may list it elsewhere).
  std::stable_partition(out.tensors.begin(), out.tensors.end(),
                        [](const PlainTensor& t) { return t.name != "lm_head.weight"; });
  return out;
}

}  // namespace osp::model
