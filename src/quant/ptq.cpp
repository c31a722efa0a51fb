// The PTQ pipeline (measurement.md §3.3).
#include "quant/ptq.h"

#include "quant/quantizer.h"

namespace osp::quant {

Result<Rotate> parse_rotate(const std::string& s) {
  if (s == "none") return Rotate::kNone;
  if (s == "ffn") return Rotate::kFfn;
  if (s == "full") return Rotate::kFull;
  return make_error("unknown --rotate '{}' (expected none, ffn or full)", s);
}
Result<WeightMethod> parse_weight_method(const std::string& s) {
  if (s == "rtn") return WeightMethod::kRtn;
  if (s == "gptq") return WeightMethod::kGptq;
  return make_error("unknown --weights '{}' (expected rtn or gptq)", s);
}
const char* rotate_name(Rotate r) {
  return r == Rotate::kNone ? "none" : r == Rotate::kFfn ? "ffn" : "full";
}
const char* weight_method_name(WeightMethod m) { return m == WeightMethod::kRtn ? "rtn" : "gptq"; }

Result<QuantizedModel> prepare_ptq(ops::Context& ctx, const model::ModelConfig& config, const model::ParamTable& table,
                                   const float* params, const PtqSettings& s,
                                   std::span<const int32_t> calib, const PtqProgressFn& progress) {
  for (int b : {s.w_bits, s.a_bits, s.kv_bits})
    if (b < 2 || b > 16) return make_error("bit widths must lie in 2..16 (16 = off), got {}", b);
  // 1. Seed; fold to the plain-Llama form every protocol is defined on (§0).
  Rng rng(s.seed);
  QuantizedModel q{fold_to_plain(ctx, config, table, params), nullptr, {}};
  PlainModel& m = q.model;
  // 2. Rotation.
  std::optional<Hadamard> ffn;
  if (s.rotate != Rotate::kNone) {
    auto h = Hadamard::create(m.config.ffn);
    if (!h) return make_error("--rotate {}: FFN size: {}", rotate_name(s.rotate), h.error().message);
    ffn = std::move(*h);
    if (s.rotate == Rotate::kFull) OSP_TRY(rotate_full(ctx, m, *ffn, s.center_embed, rng));
    else compensate_down(ctx, m, *ffn);
  }
  // 3. Weights of q, k, v, o, gate, up, down (embedding and head stay unquantized).
  if (s.w_bits < 16) {
    if (s.weights == WeightMethod::kGptq) {
      OSP_TRY(gptq_model(ctx, m, ffn ? &*ffn : nullptr, s, calib, q.notes, progress));
    } else {
      const model::ModelConfig& c = m.config;
      const int64_t d = c.hidden, f = c.ffn, qd = c.heads * c.head_dim(), kvd = c.kv_heads * c.head_dim();
      for (const auto& lw : m.weights().layers) {
        rtn_quantize_weight(lw.q, qd, d, s.w_bits);
        rtn_quantize_weight(lw.k, kvd, d, s.w_bits);
        rtn_quantize_weight(lw.v, kvd, d, s.w_bits);
        rtn_quantize_weight(lw.o, d, qd, s.w_bits);
        rtn_quantize_weight(lw.gate, f, d, s.w_bits);
        rtn_quantize_weight(lw.up, f, d, s.w_bits);
        rtn_quantize_weight(lw.down, d, f, s.w_bits);
      }
    }
  }
  // 4–5. Activation / V quantizers; the Q/K Hadamard and K quantizer when KV < 16 (any mode).
  std::optional<Hadamard> qk;
  if (s.kv_bits < 16) {
    auto h = Hadamard::create(m.config.head_dim());
    if (!h) return make_error("KV quantization: head_dim: {}", h.error().message);
    qk = std::move(*h);
  }
  q.tap = std::make_unique<FakeQuantTap>(m.config, FakeQuantSettings{s.a_bits, s.kv_bits},
                                         std::move(ffn), std::move(qk));
  return q;
}

}  // namespace osp::quant
