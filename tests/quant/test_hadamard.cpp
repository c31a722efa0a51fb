// Hadamard transforms (measurement.md §3.8): base matrices (Williamson 156 and 172 included), size
// selection, FWHT against the Sylvester entries, orthogonality and W'(Ma) = Wa, and the full
// transform at the FFN sizes 5504 and 4992 against the dense Kronecker product.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>
#include <vector>

#include "common/test_context.h"
#include "core/rng.h"
#include "ops/hadamard.h"
#include "quant/hadamard.h"

namespace osp {
namespace {

TEST(Hadamard, BaseMatricesAreHadamard) {
  for (int k : {12, 20, 28, 36, 40, 44, 52, 60, 108, 140, 156, 172}) {
    auto h = quant::hadamard_base(k);
    ASSERT_TRUE(h.ok()) << k;
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) {
        int dot = 0;
        for (int l = 0; l < k; ++l) dot += (*h)[size_t(i * k + l)] * (*h)[size_t(j * k + l)];
        ASSERT_EQ(dot, i == j ? k : 0) << "order " << k;
      }
  }
  auto bad = quant::hadamard_base(92);  // a Hadamard order, but not one osp builds
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("92x92"), std::string::npos);
}

TEST(Hadamard, SizeSelectionFollowsTheList) {
  EXPECT_EQ(*quant::hadamard_base_size(5504), 172);
  EXPECT_EQ(*quant::hadamard_base_size(11008), 172);
  EXPECT_EQ(*quant::hadamard_base_size(4992), 156);
  EXPECT_EQ(*quant::hadamard_base_size(14336), 28);
  EXPECT_EQ(*quant::hadamard_base_size(576), 36);
  EXPECT_EQ(*quant::hadamard_base_size(1536), 12);
  EXPECT_EQ(*quant::hadamard_base_size(960), 60);
  EXPECT_EQ(*quant::hadamard_base_size(2560), 40);  // 40 before 20
  EXPECT_EQ(*quant::hadamard_base_size(2048), 1);
  auto bad = quant::hadamard_base_size(2432);  // 19·128
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("2432"), std::string::npos);
}

TEST(Hadamard, FwhtIsTheSylvesterMatrix) {  // the K = 1 transform, times √n
  const int64_t n = 64;
  Rng rng(41);
  std::vector<double> x(static_cast<size_t>(n)), y;
  for (auto& v : x) v = rng.normal();
  y = x;
  ops::hadamard_transform(osp::test::ctx(), TensorView::of(y.data(), {1, n}), std::vector<int8_t>{1}, 1);
  for (auto& v : y) v *= std::sqrt(double(n));  // the op divides by √n; the FWHT alone does not
  for (int64_t j = 0; j < n; ++j) {
    double s = 0;  // (x·H)_j = Σ_i x_i (−1)^popcount(i AND j)
    for (int64_t i = 0; i < n; ++i) s += x[size_t(i)] * ((std::popcount(uint64_t(i & j)) & 1) ? -1 : 1);
    EXPECT_NEAR(y[size_t(j)], s, 1e-12);
  }
}

TEST(Hadamard, KroneckerTransformIsOrthogonalAndCompensates) {
  for (int64_t n : {16, 80, 112, 144, 312, 172}) {  // K = 1, 20, 28, 36, 156, 172
    auto h = quant::Hadamard::create(n);
    ASSERT_TRUE(h.ok()) << h.error().message;
    const auto m = h->dense(osp::test::ctx());
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t l = 0; l < n; ++l) s += m[size_t(i * n + l)] * m[size_t(j * n + l)];
        ASSERT_NEAR(s, i == j ? 1.0 : 0.0, 1e-12) << n;
      }
    // W' = W·Mᵀ (rows of W transformed), a' = M·a: W'·a' = W·a (§3.9).
    Rng rng(42);
    const int64_t rows = 3;
    std::vector<float> w(static_cast<size_t>(rows * n)), a(static_cast<size_t>(n));
    for (auto& v : w) v = float(rng.normal());
    for (auto& v : a) v = float(rng.normal());
    std::vector<float> w2 = w, a2 = a;
    h->apply(osp::test::ctx(), TensorView::of(w2.data(), {rows, n}));
    h->apply(osp::test::ctx(), TensorView::of(a2.data(), {1, n}));
    for (int64_t r = 0; r < rows; ++r) {
      double y = 0, y2 = 0;
      for (int64_t j = 0; j < n; ++j) y += double(w[size_t(r * n + j)]) * a[size_t(j)],
                                       y2 += double(w2[size_t(r * n + j)]) * a2[size_t(j)];
      EXPECT_NEAR(y, y2, 1e-4 * std::sqrt(double(n)));
    }
  }
}

// The Williamson sizes at full width: n = 5504 = 172·32 (the 1.4B FFN) and 4992 = 156·32. The
// fast transform must equal M·x with M = (H_K ⊗ H_{n/K})/√n built entry by entry, keep norms and
// inner products, and Mᵀ(M·x) must give x back. Dense products are O(n²) per vector, not O(n³).
TEST(Hadamard, WilliamsonSizesMatchTheDenseKroneckerProduct) {
  for (int64_t n : {5504, 4992}) {
    auto h = quant::Hadamard::create(n);
    ASSERT_TRUE(h.ok()) << h.error().message;
    const int k = h->base();
    ASSERT_EQ(k, n == 5504 ? 172 : 156);
    auto hk = quant::hadamard_base(k);
    ASSERT_TRUE(hk.ok());
    const int64_t m = n / k;
    std::vector<double> sylvester(static_cast<size_t>(m * m));  // (m, m): (−1)^popcount(j AND c)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t c = 0; c < m; ++c)
        sylvester[size_t(j * m + c)] = (std::popcount(uint64_t(j & c)) & 1) ? -1 : 1;
    // M[a·m + j, b·m + c] = H_K[a, b]·sylvester[j, c]/√n (feature f = a·m + j, §3.8).
    auto entry = [&](int64_t a, int64_t j, int64_t b, int64_t c) {
      return double((*hk)[size_t(a * k + b)]) * sylvester[size_t(j * m + c)] / std::sqrt(double(n));
    };
    Rng rng(uint64_t(43 + n));
    const int64_t rows = 2;
    std::vector<double> x(static_cast<size_t>(rows * n));  // (rows, n)
    for (auto& v : x) v = rng.normal();
    std::vector<double> y = x;  // (rows, n): M·x per row
    h->apply(osp::test::ctx(), TensorView::of(y.data(), {rows, n}));
    for (int64_t r = 0; r < rows; ++r) {
      const double* xr = &x[size_t(r * n)];
      const double* yr = &y[size_t(r * n)];
      double max_dense = 0, max_back = 0;
      for (int64_t a = 0; a < k; ++a)
        for (int64_t j = 0; j < m; ++j) {
          double dense = 0, back = 0;  // (M·x)_i and (Mᵀ·y)_i for i = a·m + j
          for (int64_t b = 0; b < k; ++b)
            for (int64_t c = 0; c < m; ++c) {
              dense += entry(a, j, b, c) * xr[b * m + c];
              back += entry(b, c, a, j) * yr[b * m + c];
            }
          max_dense = std::max(max_dense, std::abs(dense - yr[a * m + j]));
          max_back = std::max(max_back, std::abs(back - xr[a * m + j]));
        }
      EXPECT_LT(max_dense, 1e-10) << n;
      EXPECT_LT(max_back, 1e-10) << n;
    }
    // The float path (the online FFN transform) agrees with the double one to float rounding.
    std::vector<float> xf(x.begin(), x.end());
    h->apply(osp::test::ctx(), TensorView::of(xf.data(), {rows, n}));
    for (size_t i = 0; i < xf.size(); ++i) ASSERT_NEAR(double(xf[i]), y[i], 1e-5) << n;
    auto dot = [&](const std::vector<double>& v, int64_t r1, int64_t r2) {
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += v[size_t(r1 * n + i)] * v[size_t(r2 * n + i)];
      return s;
    };
    for (int64_t r1 = 0; r1 < rows; ++r1)
      for (int64_t r2 = r1; r2 < rows; ++r2)
        EXPECT_NEAR(dot(y, r1, r2), dot(x, r1, r2), 1e-9 * double(n)) << n;
  }
}

}  // namespace
}  // namespace osp
