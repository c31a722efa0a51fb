// The CPU backend: one function per op, called by the op entries (ops/<op>.cpp) after they have
// checked the views. Each switches on the dtypes and runs a kernel templated on the float type
// (so gradient checks run the same code in double); GEMMs go to OpenBLAS (f32, f64) or oneDNN
// (bf16). A CUDA backend mirrors this list in ops/cuda/backend.h.
#pragma once
#include <cstdint>
#include <span>

#include "ops/attention.h"
#include "ops/context.h"
#include "ops/gemm.h"
#include "ops/optimizer_update.h"
#include "ops/rope.h"

namespace osp::ops::cpu {

void gemm(Context& ctx, TensorView c, TensorView a, TensorView b, const GemmOp& op);

void copy(Context& ctx, TensorView dst, TensorView src);
void zero(Context& ctx, TensorView dst);
void cast(Context& ctx, TensorView dst, TensorView src);
void scale(Context& ctx, TensorView x, double alpha);
double sum_squares(Context& ctx, TensorView x);

void rmsnorm_forward(Context& ctx, TensorView y, TensorView rstd, TensorView x, TensorView gain, float eps);
void rmsnorm_backward(Context& ctx, TensorView dx, TensorView dgain, TensorView dy, TensorView x,
                      TensorView rstd, TensorView gain);
void embedding_forward(Context& ctx, TensorView out, TensorView tokens, TensorView table);
void embedding_backward(Context& ctx, TensorView dtable, TensorView dout, TensorView tokens);
void rope_rotate(Context& ctx, TensorView x, const RopeTable& table, int64_t seq, bool inverse);
void swiglu_forward(Context& ctx, TensorView h, TensorView gate, TensorView up);
void swiglu_backward(Context& ctx, TensorView dgate, TensorView dup, TensorView dh, TensorView gate, TensorView up);
double cross_entropy_forward(Context& ctx, TensorView nll, TensorView lse, TensorView logits, TensorView targets);
void cross_entropy_backward(Context& ctx, TensorView dlogits, TensorView logits, TensorView lse,
                            TensorView targets, double scale);
void attention_forward(Context& ctx, TensorView out, TensorView probs, TensorView q, TensorView k,
                       TensorView v, TensorView workspace, const AttentionShape& s);
void attention_backward(Context& ctx, TensorView dq, TensorView dk, TensorView dv, TensorView dout,
                        TensorView probs, TensorView q, TensorView k, TensorView v, TensorView workspace,
                        const AttentionShape& s);

void adamw_update(Context& ctx, TensorView w, TensorView g, TensorView m, TensorView v, const AdamWStep& s);
void nesterov_momentum(Context& ctx, TensorView update, TensorView momentum, TensorView g, float beta);
void muon_apply(Context& ctx, TensorView w, TensorView o, float lr, float scale, float wd);

void fake_quant_per_token(Context& ctx, TensorView x, int bits);
int64_t fake_quant_per_group(Context& ctx, TensorView x, int64_t group, int bits);
void hadamard_transform(Context& ctx, TensorView rows, std::span<const int8_t> hk, int k);
void activation_row_stats(Context& ctx, TensorView kurtosis, TensorView max_ratio, TensorView max_channel,
                          TensorView x);
void column_abs_max(Context& ctx, TensorView channel_max, TensorView x);
void column_abs_sum(Context& ctx, TensorView channel_sum, TensorView x);

}  // namespace osp::ops::cpu
