// Model transforms for 4-bit evaluation: folding a training-form model into a plain Llama
// (osp-method.md §3), the FFN down_proj compensation (measurement.md §3.9) and the full rotation
// (§3.10: norm fusion, random Hadamard R1 on the residual stream, per-layer R2 on V/O).
#pragma once
#include "core/aligned_buffer.h"
#include "core/result.h"
#include "core/rng.h"
#include "model/config.h"
#include "model/params.h"
#include "quant/hadamard.h"

namespace osp::quant {

// A plain-Llama model: rms gains as vectors, no R1/R2, untied head (always; quantization and
// rotation change the head and the embedding independently).
struct PlainModel {
  model::ModelConfig config;
  model::ParamTable table;
  AlignedBuffer<float> params;
  model::LlamaWeights<float> weights() { return model::LlamaWeights<float>::bind(table, params.data()); }
};

// These are offline transforms of the host copy of a plain model; ctx is a CPU context for the
// products they make (f64 Hadamard transforms, the folding GEMMs).

// osp-method.md §3: SSNorm scalar → vector of D copies, E' = E·R1ᵀ, W_head' = W_head·R2, untie.
PlainModel fold_to_plain(ops::Context& ctx, const model::ModelConfig& config, const model::ParamTable& table,
                         const float* params);

// §3.9: every down_proj W (D, F) ← W·Mᵀ (computed in f64, stored f32).
void compensate_down(ops::Context& ctx, PlainModel& m, const Hadamard& ffn);

// §3.10 steps 1–4 (the online FFN M and the Q/K Hadamard are the tap's job). Signs come from
// rng: D for R1, then Dh per layer for R2 in layer order.
Status rotate_full(ops::Context& ctx, PlainModel& m, const Hadamard& ffn, bool center_embed, Rng& rng);

}  // namespace osp::quant
