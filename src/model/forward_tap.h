// ForwardTap: the one place where analysis and quantization look into (or change) the forward
// pass, so there is never a second forward implementation to keep in sync. Every call site costs
// one null check when no tap is installed.
//
// Hidden states follow transformers' output_hidden_states (measurement.md §1.3): index 0 is the
// embedding output (after R1), index l in 1..L−1 the residual after layer l, index L the final
// norm's output (before R2). Linear inputs and q/k/v may be modified in place — for inference
// only: the training backward pass assumes the unmodified values.
//
// The hooks receive views of the model's own buffers, on the model's device and in its dtypes
// (f32 or f64; bf16 for the GEMM inputs of a bf16 model), with the model's context: a tap does its
// work through ops, so it runs where the model runs. device() says where that is; the model
// refuses a tap written for another device.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "ops/context.h"

namespace osp::model {

enum class LinearInput {
  kQkv,     // normed input shared by q/k/v_proj, (rows, D)
  kAttnOut, // o_proj input: attention output, (rows, H·Dh)
  kGateUp,  // normed input shared by gate/up_proj, (rows, D)
  kDown,    // down_proj input: silu(gate)·up, (rows, F)
  kHead,    // head input: final norm output before R2 (R2 counts as part of the head), (rows, D)
};

class ForwardTap {
 public:
  virtual ~ForwardTap() = default;
  // The device whose buffers the hooks take.
  virtual Device device() const { return Device::kCpu; }
  // x (rows, D).
  virtual void hidden_state(ops::Context& /*ctx*/, int /*index*/, TensorView /*x*/) {}
  // layer is −1 for kHead.
  virtual void linear_input(ops::Context& /*ctx*/, LinearInput /*site*/, int /*layer*/, TensorView /*x*/) {}
  // q (rows, H·Dh) and k (rows, Hkv·Dh) right after RoPE.
  virtual void query_key(ops::Context& /*ctx*/, int /*layer*/, TensorView /*q*/, TensorView /*k*/) {}
  // v (rows, Hkv·Dh) right after v_proj.
  virtual void value(ops::Context& /*ctx*/, int /*layer*/, TensorView /*v*/) {}
  // The forward may stop after this many layers when the tap needs nothing later (GPTQ's
  // Hessian of layer l); it then skips the final norm and the head, and logits() is not valid.
  virtual int64_t layers_needed() const { return INT64_MAX; }
};

}  // namespace osp::model
