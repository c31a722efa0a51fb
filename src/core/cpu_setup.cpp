// Process-level CPU setup (see cpu_setup.h).
#include "core/cpu_setup.h"

#include <cblas.h>
#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>
#include <xmmintrin.h>
#include <pmmintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
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

void select_blas_kernel(char** argv, bool latency_bound) {
  bool changed = false;
  // Passive OpenMP waiting unless the user chose: spinning threads collapse throughput when
  // another process competes for the cores (measured: a tiny model fell from 16k to 3.6k tok/s
  // next to one busy process; passive kept 10k), for a 16% loss on that model when the machine
  // is quiet and under 1% on the 10M-parameter benchmark model (BENCHMARKS.md).
  // Latency-bound work (KV-cached decoding: dozens of tiny parallel regions per token) instead
  // spins briefly before sleeping: passive waking cost 4.7x in decode tokens/s on the demo model
  // and 2x on the 10M one, a 30000-iteration spin (tens of µs) recovers nearly all of it.
  if (getenv("OMP_WAIT_POLICY") == nullptr && getenv("GOMP_SPINCOUNT") == nullptr) {
    if (latency_bound) setenv("GOMP_SPINCOUNT", "30000", 1);
    else setenv("OMP_WAIT_POLICY", "passive", 1);
    changed = true;
  }
  const char* opt = getenv("OSP_BLAS_AUTO");
  const bool auto_blas = opt == nullptr || std::string(opt) != "0";
  if (getenv("OPENBLAS_CORETYPE") == nullptr && auto_blas) {
    if (const char* kernel = preferred_kernel()) reexec_with(kernel, argv);
  }
  // Both libraries read their variables when they load, so a change needs a fresh process.
  if (changed) execv("/proc/self/exe", argv);
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

std::string blas_kernel_name() { return openblas_get_corename(); }

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown CPU";
}

std::string blas_description() {
  const char* selected = getenv(kSelectedEnv);
  const char* env = getenv("OPENBLAS_CORETYPE");
  std::string how = selected != nullptr ? "selected by osp"
                    : env != nullptr    ? "from OPENBLAS_CORETYPE"
                                        : "OpenBLAS's own detection";
  const char* wait = getenv("OMP_WAIT_POLICY");
  if (wait == nullptr && getenv("GOMP_SPINCOUNT") != nullptr) wait = "spin then sleep";
  return fmt::format("{}; kernel {} ({}); {} threads, OpenMP wait policy {}", openblas_get_config(),
                     openblas_get_corename(), how, omp_get_max_threads(), wait != nullptr ? wait : "default");
}

}  // namespace osp
