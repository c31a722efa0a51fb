// ForwardTap: the one place where analysis and quantization look into (or change) the forward
// pass, so there is never a second forward implementation to keep in sync. Every call site costs
// one null check when no tap is installed.
//
// Hidden states follow transformers' output_hidden_states (measurement.md §1.3): index 0 is the
// embedding output (after R1), index l in 1..L−1 the residual after layer l, index L the final
// norm's output (before R2). Linear inputs and q/k/v may be modified in place — for inference
// only: the training backward pass assumes the unmodified values.
#pragma once
#include <cstdint>

namespace osp::model {

enum class LinearInput {
  kQkv,     // normed input shared by q/k/v_proj, (rows, D)
  kAttnOut, // o_proj input: attention output, (rows, H·Dh)
  kGateUp,  // normed input shared by gate/up_proj, (rows, D)
  kDown,    // down_proj input: silu(gate)·up, (rows, F)
  kHead,    // head input: final norm output before R2 (R2 counts as part of the head), (rows, D)
};

template <class T>
class ForwardTap {
 public:
  virtual ~ForwardTap() = default;
  virtual void hidden_state(int /*index*/, const T* /*x*/, int64_t /*rows*/, int64_t /*dim*/) {}
  // layer is −1 for kHead.
  virtual void linear_input(LinearInput /*site*/, int /*layer*/, T* /*x*/, int64_t /*rows*/,
                            int64_t /*cols*/) {}
  // q (rows, H·Dh) and k (rows, Hkv·Dh) right after RoPE.
  virtual void query_key(int /*layer*/, T* /*q*/, T* /*k*/, int64_t /*rows*/) {}
  // v (rows, Hkv·Dh) right after v_proj.
  virtual void value(int /*layer*/, T* /*v*/, int64_t /*rows*/) {}
  // The forward may stop after this many layers when the tap needs nothing later (GPTQ's
  // Hessian of layer l); it then skips the final norm and the head, and logits() is not valid.
  virtual int64_t layers_needed() const { return INT64_MAX; }
};

}  // namespace osp::model
