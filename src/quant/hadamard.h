// Hadamard transforms (measurement.md §3.8): the in-place fast Walsh–Hadamard transform for
// n = 2^m (natural-order Sylvester matrix) and the Kronecker construction M = (H_K ⊗ H_{n/K})/√n
// for n = K·2^m with K from the spec's list. Base matrices are generated (Paley I / II,
// doubling, Williamson arrays for 156 and 172) and each is checked for H·Hᵀ = K·I when built.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ops/context.h"

namespace osp::quant {

// The K of §3.8 for size n (first list entry K with n/K a power of two; 1 for powers of two).
Result<int> hadamard_base_size(int64_t n);
// K×K ±1 Hadamard matrix, row-major; an error for orders outside the list.
Result<std::vector<int8_t>> hadamard_base(int k);
// The Williamson array of the symmetric circulants A, B, C, D of odd order n given by their
// half-rows a_0 … a_{(n−1)/2} ('+' = +1, '-' = −1; a_{n−i} = a_i): order 4n, row-major; an error
// unless it is a Hadamard matrix. Used for 156 and 172, and by tools/williamson_search.
Result<std::vector<int8_t>> williamson_hadamard(const std::array<std::string_view, 4>& half_rows);

// M = (H_K ⊗ H_{n/K}) / √n, applied to rows: a ← M·a for each row a (i.e. a·Mᵀ, §3.8).
class Hadamard {
 public:
  static Result<Hadamard> create(int64_t n);
  int64_t size() const { return n_; }
  int base() const { return k_; }
  // rows (count, n), f32 or f64, in place, through ops::hadamard_transform on ctx's device.
  void apply(ops::Context& ctx, TensorView rows) const;
  // The dense M (n, n), row-major, for tests and small offline transforms (a CPU context).
  std::vector<double> dense(ops::Context& ctx) const;

 private:
  int64_t n_ = 0;
  int k_ = 1;
  std::vector<int8_t> hk_;  // (K, K)
};

}  // namespace osp::quant
