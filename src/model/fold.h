// Folding an osp model into a plain Llama (osp-method.md §3): SSNorm scalars become weight
// vectors, R1 folds into the embedding (E' = E·R1ᵀ), R2 into the head (W' = W_head·R2), and a
// tied model with EmbProj is exported untied. The result lists the tensors in Hugging Face order
// with transformers' names and (out, in) shapes, in fp32; export writers round them once.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/config.h"
#include "model/params.h"
#include "ops/context.h"

namespace osp::model {

struct PlainTensor {
  std::string name;
  std::vector<uint64_t> shape;  // (out, in) for matrices, (D) for norms
  std::vector<float> owned;     // folded values; empty when `view` points into the model
  std::span<const float> view;  // unfolded values borrowed from the model's parameters
  std::span<const float> data() const { return owned.empty() ? view : std::span<const float>(owned); }
  int64_t numel() const;
};

struct PlainLlama {
  model::ModelConfig config;          // norm = rms, emb_proj = false; tie as exported
  std::vector<PlainTensor> tensors;   // embed, layers (in, q, k, v, o, post, gate, up, down), norm, head
  std::vector<std::string> notices;   // e.g. "tied + EmbProj exports untied"
  const PlainTensor* find(std::string_view name) const;
};

// `params` (host memory) is laid out by ParamTable(config) and must outlive the result (unfolded
// tensors are views into it). The products are computed in double on the CPU context ctx and
// rounded to fp32 once.
PlainLlama fold_to_plain_llama(ops::Context& ctx, const model::ModelConfig& config, const float* params);

}  // namespace osp::model
