// Fake (simulated) quantization through the forward's one hook, model::ForwardTap
// (measurement.md §3.2, §3.5–§3.7, §3.9): per-token activations at the q/k/v, gate/up and
// down_proj inputs, per-head groups at the o_proj input and V, the per-head Hadamard on Q and K
// after RoPE followed by K quantization, and the online FFN Hadamard before down_proj.
// Every transform is an op on the model's buffers, so the tap runs on the model's device (the
// CPU in this build); f32 is the protocol, f64 runs the same logic for the reference cross-check.
#pragma once
#include <atomic>
#include <cstdint>
#include <optional>

#include "model/config.h"
#include "model/forward_tap.h"
#include "quant/hadamard.h"

namespace osp::quant {

struct FakeQuantSettings {
  int a_bits = 16;   // activations (16 = off)
  int kv_bits = 16;  // K and V (16 = off); < 16 also installs the Q/K Hadamard (§3.7)
};

class FakeQuantTap final : public model::ForwardTap {
 public:
  // ffn_hadamard: the online M of size F on the down_proj input (rotate ffn / full), or none.
  // qk_hadamard: of size Dh; required when kv_bits < 16.
  FakeQuantTap(const model::ModelConfig& config, FakeQuantSettings settings, std::optional<Hadamard> ffn_hadamard,
               std::optional<Hadamard> qk_hadamard);

  void linear_input(ops::Context& ctx, model::LinearInput site, int layer, TensorView x) override;
  void query_key(ops::Context& ctx, int layer, TensorView q, TensorView k) override;
  void value(ops::Context& ctx, int layer, TensorView v) override;

  // Per-head groups that were constant and non-zero, left exact (§3.6, quirk Q12).
  int64_t constant_groups() const { return constant_groups_.load(); }

 private:
  model::ModelConfig cfg_;
  FakeQuantSettings s_;
  std::optional<Hadamard> ffn_had_, qk_had_;
  std::atomic<int64_t> constant_groups_{0};
};

}  // namespace osp::quant
