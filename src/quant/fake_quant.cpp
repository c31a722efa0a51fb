// Fake quantization tap (measurement.md §3.2–§3.9). Rows are independent, so every site runs
// its rows in parallel; results do not depend on the batch composition (§2).
#include "quant/fake_quant.h"

#include "core/check.h"
#include "quant/quantizer.h"

namespace osp::quant {

template <class T>
FakeQuantTap<T>::FakeQuantTap(const model::ModelConfig& config, FakeQuantSettings settings,
                           std::optional<Hadamard> ffn_hadamard, std::optional<Hadamard> qk_hadamard)
    : cfg_(config), s_(settings), ffn_had_(std::move(ffn_hadamard)), qk_had_(std::move(qk_hadamard)) {
  OSP_CHECK(!ffn_had_ || ffn_had_->size() == config.ffn, "FFN Hadamard size {} != F {}",
            ffn_had_ ? ffn_had_->size() : 0, config.ffn);
  OSP_CHECK(s_.kv_bits >= 16 || (qk_had_ && qk_had_->size() == config.head_dim()),
            "KV quantization needs the per-head Hadamard of size Dh");
}

template <class T>
void FakeQuantTap<T>::per_token(T* x, int64_t rows, int64_t cols, int bits) {
  if (bits >= 16) return;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) quantize_per_token(x + r * cols, cols, bits);
}

template <class T>
void FakeQuantTap<T>::per_group(T* x, int64_t rows, int64_t cols, int64_t group, int bits) {
  if (bits >= 16) return;
  const int64_t n = rows * (cols / group);
  int64_t constant = 0;
#pragma omp parallel for schedule(static) reduction(+ : constant)
  for (int64_t g = 0; g < n; ++g) constant += quantize_group_exact(x + g * group, group, bits) ? 0 : 1;
  constant_groups_ += constant;
}

template <class T>
void FakeQuantTap<T>::linear_input(model::LinearInput site, int /*layer*/, T* x, int64_t rows,
                                int64_t cols) {
  switch (site) {
    case model::LinearInput::kQkv:
    case model::LinearInput::kGateUp: per_token(x, rows, cols, s_.a_bits); break;
    case model::LinearInput::kDown:
      if (ffn_had_) ffn_had_->apply(x, rows);  // online M before quantization (§3.9)
      per_token(x, rows, cols, s_.a_bits);
      break;
    case model::LinearInput::kAttnOut: per_group(x, rows, cols, cfg_.head_dim(), s_.a_bits); break;
    case model::LinearInput::kHead: break;  // the lm_head input stays unquantized (§3.2)
  }
}

template <class T>
void FakeQuantTap<T>::query_key(int /*layer*/, T* q, T* k, int64_t rows) {
  if (s_.kv_bits >= 16) return;
  const int64_t dh = cfg_.head_dim();
  // Per-head Hadamard on Q and K after RoPE (Q·Kᵀ unchanged), then K per (token, head) with the
  // per-token path of §3.5; Q is not quantized (§3.7). H_Dh is symmetric, so a·H = H·a.
  qk_had_->apply(q, rows * cfg_.heads);
  qk_had_->apply(k, rows * cfg_.kv_heads);
  per_token(k, rows * cfg_.kv_heads, dh, s_.kv_bits);
}

template <class T>
void FakeQuantTap<T>::value(int /*layer*/, T* v, int64_t rows) {
  per_group(v, rows, cfg_.kv_heads * cfg_.head_dim(), cfg_.head_dim(), s_.kv_bits);
}

template class FakeQuantTap<float>;
template class FakeQuantTap<double>;

}  // namespace osp::quant
