// Parameter initialisation; the QR factorisation is LAPACK's (shipped with OpenBLAS).
#include "model/init.h"

#include <cmath>
#include <vector>

#include "core/check.h"

extern "C" {
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work,
             const int* lwork, int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau,
             double* work, const int* lwork, int* info);
}

namespace osp::model {

namespace {
// The std of N(0,1) truncated to [−2, 2]; dividing by it makes the draw's std exactly s (§1.10).
constexpr double kTruncatedStd = 0.8796256610342398;
}  // namespace

template <class T>
void random_orthogonal(T* out, int64_t n, Rng& rng) {
  const int ni = static_cast<int>(n);
  // LAPACK is column-major: draw A column-major, factor, and read Q back row-major.
  std::vector<double> a(static_cast<size_t>(n * n));
  std::vector<double> tau(static_cast<size_t>(n));
  for (auto& x : a) x = rng.normal();
  int info = 0, lwork = -1;
  double query = 0;
  dgeqrf_(&ni, &ni, a.data(), &ni, tau.data(), &query, &lwork, &info);
  lwork = static_cast<int>(query);
  std::vector<double> work(size_t(std::max(lwork, 1)));
  dgeqrf_(&ni, &ni, a.data(), &ni, tau.data(), work.data(), &lwork, &info);
  OSP_CHECK(info == 0, "dgeqrf failed: {}", info);
  std::vector<double> sign(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) sign[size_t(j)] = a[size_t(j * n + j)] < 0 ? -1.0 : 1.0;
  lwork = -1;
  dorgqr_(&ni, &ni, &ni, a.data(), &ni, tau.data(), &query, &lwork, &info);
  lwork = static_cast<int>(query);
  work.resize(size_t(std::max(lwork, 1)));
  dorgqr_(&ni, &ni, &ni, a.data(), &ni, tau.data(), work.data(), &lwork, &info);
  OSP_CHECK(info == 0, "dorgqr failed: {}", info);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) out[i * n + j] = T(a[size_t(j * n + i)] * sign[size_t(j)]);
}

template <class T>
void init_parameters(T* params, const ParamTable& table, const ModelConfig& config, Rng& rng) {
  for (const auto& p : table.params()) {
    T* w = params + p.offset;
    switch (p.role) {
      case ParamRole::kNormGain:
        for (int64_t i = 0; i < p.numel; ++i) w[i] = T(1);
        break;
      case ParamRole::kEmbProj:
      case ParamRole::kHeadProj:
        random_orthogonal(w, p.shape[0], rng);
        break;
      case ParamRole::kEmbedding: {
        const double s = config.init_std > 0 ? config.init_std : 1.0 / std::sqrt(double(config.hidden));
        for (int64_t i = 0; i < p.numel; ++i) w[i] = T(rng.normal() * s);
        break;
      }
      default: {  // linear weights (q, k, v, o, gate, up, down, head)
        if (config.init_std > 0) {
          for (int64_t i = 0; i < p.numel; ++i) w[i] = T(rng.normal() * config.init_std);
        } else {
          const double s = 1.0 / std::sqrt(double(p.fan_in)) / kTruncatedStd;
          for (int64_t i = 0; i < p.numel; ++i) w[i] = T(rng.truncated_normal(2.0) * s);
        }
      }
    }
  }
}

template void init_parameters<float>(float*, const ParamTable&, const ModelConfig&, Rng&);
template void init_parameters<double>(double*, const ParamTable&, const ModelConfig&, Rng&);
template void random_orthogonal<float>(float*, int64_t, Rng&);
template void random_orthogonal<double>(double*, int64_t, Rng&);

}  // namespace osp::model
