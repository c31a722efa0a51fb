// Finite-difference gradient checking in double precision, shared by the op and model tests.
// The loss is a function of a parameter vector that the checker perturbs in place.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"

namespace osp::test {

inline std::vector<double> random_vector(Rng& rng, size_t n, double scale = 1.0) {
  std::vector<double> v(n);
  for (auto& x : v) x = rng.normal() * scale;
  return v;
}

// Central differences of loss() w.r.t. x[i] for every i (or `max_checks` evenly spaced indices),
// compared with analytic[i]: |fd − an| ≤ tol · max(1, |fd|, |an|) elementwise.
inline void expect_gradient_matches(const std::string& what, double* x, size_t n,
                                    const double* analytic, const std::function<double()>& loss,
                                    double tol = 1e-6, size_t max_checks = 400, double h = 1e-5) {
  const size_t stride = std::max<size_t>(1, n / max_checks);
  double worst = 0.0;
  size_t worst_i = 0;
  for (size_t i = 0; i < n; i += stride) {
    const double saved = x[i];
    x[i] = saved + h;
    const double lp = loss();
    x[i] = saved - h;
    const double lm = loss();
    x[i] = saved;
    const double fd = (lp - lm) / (2 * h);
    const double err = std::abs(fd - analytic[i]) / std::max({1.0, std::abs(fd), std::abs(analytic[i])});
    if (err > worst) worst = err, worst_i = i;
  }
  EXPECT_LE(worst, tol) << what << ": worst relative error " << worst << " at index " << worst_i
                        << " (analytic " << analytic[worst_i] << ")";
}

// Σ_i w_i·y_i: a scalar loss whose gradient w.r.t. y is w (random, so no symmetry hides bugs).
inline double weighted_sum(const std::vector<double>& w, const double* y) {
  double s = 0.0;
  for (size_t i = 0; i < w.size(); ++i) s += w[i] * y[i];
  return s;
}

}  // namespace osp::test
