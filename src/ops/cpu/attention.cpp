// CPU causal attention. Per (sequence, head) the scores are computed in row blocks that only
// reach the causal frontier, so about half of the t×t products are skipped; GEMMs run in BLAS
// (single-threaded inside the OpenMP loop over heads). With a KV cache (past > 0) the same
// blocks run over the past + t cached keys, the frontier shifted by past.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ops/cpu/backend.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/typed.h"
#include "ops/cpu/vec_math.h"

namespace osp::ops::cpu {
namespace {

constexpr int64_t kRowBlock = 64;  // must match attention_workspace_per_thread (ops/attention.cpp)

// Causal softmax of row i (columns 0..i) in place; columns i+1..end-1 are set to zero.
template <class T>
void causal_softmax_row(T* row, int64_t i, int64_t end) {
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j <= i; ++j) mx = std::max(mx, row[j]);
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j <= i; ++j) {
    row[j] = fast_exp(row[j] - mx);
    sum += row[j];
  }
  const T inv = T(1) / sum;
#pragma omp simd
  for (int64_t j = 0; j <= i; ++j) row[j] *= inv;
  for (int64_t j = i + 1; j < end; ++j) row[j] = 0;
}

template <class T, class O>
void forward(O* out, T* probs, const T* q, const T* k, const T* v, T* workspace, const AttentionShape& s) {
  const int64_t t = s.seq, kv = s.kv_len(), dh = s.head_dim, ldq = s.heads * dh, ldk = s.kv_heads * dh;
  const int64_t group = s.heads / s.kv_heads, per_thread = attention_workspace_per_thread(s);
  const int64_t score_elems = per_thread - kRowBlock * dh;  // one row block of scores
  const T scale = T(1) / std::sqrt(T(dh));
#pragma omp parallel for collapse(2) schedule(dynamic)
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.heads; ++h) {
      T* scratch = workspace + int64_t(omp_get_thread_num()) * per_thread;
      const T* qh = q + b * t * ldq + h * dh;
      const T* kg = k + b * kv * ldk + (h / group) * dh;
      const T* vg = v + b * kv * ldk + (h / group) * dh;
      O* oh = out + b * t * ldq + h * dh;
      for (int64_t r0 = 0; r0 < t; r0 += kRowBlock) {
        // Query rows r0..r1 sit at positions past+r0..past+r1−1: keys up to past+r1 (the frontier).
        const int64_t r1 = std::min(t, r0 + kRowBlock), rows = r1 - r0, cols = s.past + r1;
        T* p = probs != nullptr ? probs + ((b * s.heads + h) * t + r0) * kv : scratch;  // (rows, kv)
        gemm(false, true, rows, cols, dh, scale, qh + r0 * ldq, ldq, kg, ldk, T(0), p, kv);
        for (int64_t i = 0; i < rows; ++i) causal_softmax_row(p + i * kv, s.past + r0 + i, cols);
        if constexpr (std::is_same_v<O, T>) {
          gemm(false, false, rows, dh, cols, T(1), p, kv, vg, ldk, T(0), oh + r0 * ldq, ldq);
        } else {  // bf16 output: the product in T, rounded once
          T* o = scratch + score_elems;
          gemm(false, false, rows, dh, cols, T(1), p, kv, vg, ldk, T(0), o, dh);
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t d = 0; d < dh; ++d) oh[(r0 + i) * ldq + d] = store_as<O>(o[i * dh + d]);
        }
      }
    }
}

template <class T>
void backward(T* dq, T* dk, T* dv, const T* dout, const T* probs, const T* q, const T* k, const T* v, T* workspace,
              const AttentionShape& s) {
  const int64_t t = s.seq, dh = s.head_dim, ldq = s.heads * dh, ldk = s.kv_heads * dh;
  const int64_t group = s.heads / s.kv_heads, per_thread = attention_workspace_per_thread(s);
  const T scale = T(1) / std::sqrt(T(dh));
  std::memset(dk, 0, sizeof(T) * size_t(s.batch * t * ldk));
  std::memset(dv, 0, sizeof(T) * size_t(s.batch * t * ldk));
  // One task per (sequence, kv head): the query heads sharing a kv head add into the same dk/dv.
#pragma omp parallel for collapse(2) schedule(dynamic)
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t g = 0; g < s.kv_heads; ++g) {
      T* ds = workspace + int64_t(omp_get_thread_num()) * per_thread;
      const T* kg = k + b * t * ldk + g * dh;
      const T* vg = v + b * t * ldk + g * dh;
      T* dkg = dk + b * t * ldk + g * dh;
      T* dvg = dv + b * t * ldk + g * dh;
      for (int64_t h = g * group; h < (g + 1) * group; ++h) {
        const T* p = probs + (b * s.heads + h) * t * t;
        const T* qh = q + b * t * ldq + h * dh;
        const T* doh = dout + b * t * ldq + h * dh;
        T* dqh = dq + b * t * ldq + h * dh;
        for (int64_t r0 = 0; r0 < t; r0 += kRowBlock) {
          const int64_t r1 = std::min(t, r0 + kRowBlock), rows = r1 - r0;
          // dP = dO · Vᵀ, then dS = P ⊙ (dP − D) in place with D_i = Σ_j P_ij·dP_ij (= dO_i·O_i);
          // ds holds this row block only: row i of the block is ds + (i − r0)·t.
          gemm(false, true, rows, r1, dh, T(1), doh + r0 * ldq, ldq, vg, ldk, T(0), ds, t);
          for (int64_t i = r0; i < r1; ++i) {
            T* dsi = ds + (i - r0) * t;
            const T* pi = p + i * t;
            T dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int64_t j = 0; j <= i; ++j) dot += pi[j] * dsi[j];
#pragma omp simd
            for (int64_t j = 0; j <= i; ++j) dsi[j] = pi[j] * (dsi[j] - dot);
            for (int64_t j = i + 1; j < r1; ++j) dsi[j] = 0;
          }
          gemm(false, false, rows, dh, r1, scale, ds, t, kg, ldk, T(0), dqh + r0 * ldq, ldq);
          gemm(true, false, r1, dh, rows, scale, ds, t, qh + r0 * ldq, ldq, T(1), dkg, ldk);
          gemm(true, false, r1, dh, rows, T(1), p + r0 * t, t, doh + r0 * ldq, ldq, T(1), dvg, ldk);
        }
      }
    }
}

}  // namespace

void attention_forward(Context&, TensorView out, TensorView probs, TensorView q, TensorView k, TensorView v,
                       TensorView workspace, const AttentionShape& s) {
  with_float_out(q.dtype(), out.dtype(), "attention_forward", [&](auto tv, auto ov) {
    using T = decltype(tv);
    using O = decltype(ov);
    forward(out.data<O>(), probs.empty() ? nullptr : probs.data<T>(), q.data<T>(), k.data<T>(), v.data<T>(),
            workspace.data<T>(), s);
  });
}

void attention_backward(Context&, TensorView dq, TensorView dk, TensorView dv, TensorView dout, TensorView probs,
                        TensorView q, TensorView k, TensorView v, TensorView workspace, const AttentionShape& s) {
  with_float(q.dtype(), "attention_backward", [&](auto tv) {
    using T = decltype(tv);
    backward(dq.data<T>(), dk.data<T>(), dv.data<T>(), dout.data<T>(), probs.data<T>(), q.data<T>(), k.data<T>(),
             v.data<T>(), workspace.data<T>(), s);
  });
}

}  // namespace osp::ops::cpu
