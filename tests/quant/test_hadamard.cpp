// Hadamard transforms (measurement.md §3.8): base matrices, size selection, FWHT against the
// Sylvester entries, orthogonality and W'(Ma) = Wa.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <vector>

#include "core/rng.h"
#include "quant/hadamard.h"

namespace osp {
namespace {

TEST(Hadamard, BaseMatricesAreHadamard) {
  for (int k : {12, 20, 28, 36, 40, 44, 52, 60, 108, 140}) {
    auto h = quant::hadamard_base(k);
    ASSERT_TRUE(h.ok()) << k;
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) {
        int dot = 0;
        for (int l = 0; l < k; ++l) dot += (*h)[size_t(i * k + l)] * (*h)[size_t(j * k + l)];
        ASSERT_EQ(dot, i == j ? k : 0) << "order " << k;
      }
  }
  EXPECT_FALSE(quant::hadamard_base(172).ok());
}

TEST(Hadamard, SizeSelectionFollowsTheList) {
  EXPECT_EQ(*quant::hadamard_base_size(5504), 172);
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

TEST(Hadamard, FwhtIsTheSylvesterMatrix) {
  const int64_t n = 64;
  Rng rng(41);
  std::vector<double> x(static_cast<size_t>(n)), y;
  for (auto& v : x) v = rng.normal();
  y = x;
  quant::fwht(y.data(), n);
  for (int64_t j = 0; j < n; ++j) {
    double s = 0;  // (x·H)_j = Σ_i x_i (−1)^popcount(i AND j)
    for (int64_t i = 0; i < n; ++i) s += x[size_t(i)] * ((std::popcount(uint64_t(i & j)) & 1) ? -1 : 1);
    EXPECT_NEAR(y[size_t(j)], s, 1e-12);
  }
}

TEST(Hadamard, KroneckerTransformIsOrthogonalAndCompensates) {
  for (int64_t n : {16, 80, 112, 144}) {  // K = 1, 20, 28, 36
    auto h = quant::Hadamard::create(n);
    ASSERT_TRUE(h.ok()) << h.error().message;
    const auto m = h->dense();
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
    h->apply(w2.data(), rows);
    h->apply(a2.data(), 1);
    for (int64_t r = 0; r < rows; ++r) {
      double y = 0, y2 = 0;
      for (int64_t j = 0; j < n; ++j) y += double(w[size_t(r * n + j)]) * a[size_t(j)],
                                       y2 += double(w2[size_t(r * n + j)]) * a2[size_t(j)];
      EXPECT_NEAR(y, y2, 1e-4 * std::sqrt(double(n)));
    }
  }
}

}  // namespace
}  // namespace osp
