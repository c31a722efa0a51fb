// Fake quantization tap (measurement.md §3.2–§3.9).
#include "quant/fake_quant.h"

#include "core/check.h"
#include "ops/quantize.h"

namespace osp::quant {

FakeQuantTap::FakeQuantTap(const model::ModelConfig& config, FakeQuantSettings settings,
                           std::optional<Hadamard> ffn_hadamard, std::optional<Hadamard> qk_hadamard)
    : cfg_(config), s_(settings), ffn_had_(std::move(ffn_hadamard)), qk_had_(std::move(qk_hadamard)) {
  OSP_CHECK(!ffn_had_ || ffn_had_->size() == config.ffn, "FFN Hadamard size {} != F {}",
            ffn_had_ ? ffn_had_->size() : 0, config.ffn);
  OSP_CHECK(s_.kv_bits >= 16 || (qk_had_ && qk_had_->size() == config.head_dim()),
            "KV quantization needs the per-head Hadamard of size Dh");
}

void FakeQuantTap::linear_input(ops::Context& ctx, model::LinearInput site, int /*layer*/, TensorView x) {
  switch (site) {
    case model::LinearInput::kQkv:
    case model::LinearInput::kGateUp: ops::fake_quant_per_token(ctx, x, s_.a_bits); break;
    case model::LinearInput::kDown:
      if (ffn_had_) ffn_had_->apply(ctx, x);  // online M before quantization (§3.9)
      ops::fake_quant_per_token(ctx, x, s_.a_bits);
      break;
    case model::LinearInput::kAttnOut:
      constant_groups_ += ops::fake_quant_per_group(ctx, x, cfg_.head_dim(), s_.a_bits);
      break;
    case model::LinearInput::kHead: break;  // the lm_head input stays unquantized (§3.2)
  }
}

void FakeQuantTap::query_key(ops::Context& ctx, int /*layer*/, TensorView q, TensorView k) {
  if (s_.kv_bits >= 16) return;
  const int64_t dh = cfg_.head_dim();
  // Per-head Hadamard on Q and K after RoPE (Q·Kᵀ unchanged), then K per (token, head) with the
  // per-token path of §3.5; Q is not quantized (§3.7). H_Dh is symmetric, so a·H = H·a.
  const TensorView qh = q.reshaped({q.numel() / dh, dh}), kh = k.reshaped({k.numel() / dh, dh});
  qk_had_->apply(ctx, qh);
  qk_had_->apply(ctx, kh);
  ops::fake_quant_per_token(ctx, kh, s_.kv_bits);
}

void FakeQuantTap::value(ops::Context& ctx, int /*layer*/, TensorView v) {
  constant_groups_ += ops::fake_quant_per_group(ctx, v, cfg_.head_dim(), s_.kv_bits);
}

}  // namespace osp::quant
