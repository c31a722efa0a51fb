// Process-level CPU setup (see cpu_setup.h).
#include "core/cpu_setup.h"

#include <cblas.h>
#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>
#include <xmmintrin.h>
#include <pmmintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "core/rng.h"

extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);

namespace osp {
namespace {

constexpr const char* kSelectedEnv = "OSP_BLAS_SELECTED";

const char* preferred_kernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

void reexec_with(const char* kernel, char** argv) {
  setenv("OPENBLAS_CORETYPE", kernel, 1);
  setenv(kSelectedEnv, kernel, 1);
  execv("/proc/self/exe", argv);
  // execv only returns on failure: carry on with whatever kernel is loaded.
}

}  // namespace

void select_blas_kernel(char** argv) {
  if (getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const char* opt = getenv("OSP_BLAS_AUTO");
  if (opt != nullptr && std::string(opt) == "0") return;
  if (const char* kernel = preferred_kernel()) reexec_with(kernel, argv);
}

bool verify_blas(char** argv) {
  constexpr int n = 67;  // odd size exercises the kernel's edge handling
  std::vector<float> a(n * n), b(n * n), c(n * n);
  Rng rng(12345);
  for (auto& x : a) x = static_cast<float>(rng.normal());
  for (auto& x : b) x = static_cast<float>(rng.normal());
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
              0.0f, c.data(), n);
  double worst = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double ref = 0.0;
      for (int k = 0; k < n; ++k) ref += double(a[i * n + k]) * double(b[j * n + k]);
      worst = std::max(worst, std::abs(ref - c[i * n + j]));
    }
  if (worst < 1e-3) return true;
  const char* selected = getenv(kSelectedEnv);
  if (selected != nullptr && std::string(selected) != "Haswell") {
    fmt::print(stderr, "osp: OpenBLAS kernel {} gave wrong results; retrying with Haswell\n",
               selected);
    reexec_with("Haswell", argv);
  }
  fmt::print(stderr, "osp: warning: BLAS self-check failed (max error {:.3g}) with kernel {}\n",
             worst, openblas_get_corename());
  return false;
}

void enable_flush_to_zero() {
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
  _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
}

double measure_sgemm_gflops(int n, int reps) {
  std::vector<float> a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n);
  Rng rng(1);
  for (auto& x : a) x = float(rng.normal());
  for (auto& x : b) x = float(rng.normal());
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f,
                c.data(), n);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * double(n) * n * n / s / 1e9);
  }
  return best;
}

std::string blas_description() {
  const char* selected = getenv(kSelectedEnv);
  const char* env = getenv("OPENBLAS_CORETYPE");
  std::string how = selected != nullptr ? "selected by osp"
                    : env != nullptr    ? "from OPENBLAS_CORETYPE"
                                        : "OpenBLAS's own detection";
  return fmt::format("{}; kernel {} ({}); {} threads", openblas_get_config(),
                     openblas_get_corename(), how, omp_get_max_threads());
}

}  // namespace osp
