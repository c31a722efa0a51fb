// Roofline measurement and its per-machine cache (see roofline.h).
#include "ops/roofline.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/cpu_setup.h"
#include "ops/elementwise.h"
#include "ops/gemm.h"

namespace osp::ops {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kN = 2048;

std::string key_for(Context& ctx, DType dtype) {
  const std::string lib = dtype == DType::kBF16 ? "oneDNN" : "OpenBLAS " + blas_kernel_name();
  return fmt::format("{} | {} | {} | {} threads", cpu_model_name(), lib, dtype_name(dtype), ctx.threads());
}

nlohmann::json read_cache() {
  std::ifstream in(roofline_cache_path());
  if (!in) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json::object();
}

// Best-effort: a cache that cannot be written only means the next run measures again.
void write_cache(const std::string& key, double gflops, const std::string& how) {
  nlohmann::json j = read_cache();
  char date[16];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d", std::localtime(&now));
  j[key] = {{"gflops", gflops}, {"date", date}, {"how", how}};
  std::error_code ec;
  fs::create_directories(fs::path(roofline_cache_path()).parent_path(), ec);
  (void)write_file_atomically(roofline_cache_path(), j.dump(2) + "\n");
}

double best_of(Context& ctx, DType dtype, int reps) {
  Tensor a(dtype, {kN, kN}), b(dtype, {kN, kN}), c(DType::kF32, {kN, kN}), a32(DType::kF32, {kN, kN});
  float* p = a32.data<float>();
  for (int64_t i = 0; i < kN * kN; ++i) p[i] = float((i * 7919) % 1000) / 1000.0f - 0.5f;
  if (dtype == DType::kBF16) {
    cast(ctx, a, a32);
    cast(ctx, b, a32);
  }
  const TensorView av = dtype == DType::kBF16 ? a.view() : a32.view(), bv = dtype == DType::kBF16 ? b.view() : a32.view();
  gemm(ctx, c, av, bv, {.trans_a = false, .trans_b = true});  // warm-up: pages, thread pool, primitive
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm(ctx, c, av, bv, {.trans_a = false, .trans_b = true});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * double(kN) * kN * kN / s / 1e9);
  }
  return best;
}

}  // namespace

std::string roofline_cache_path() {
  if (const char* d = std::getenv("OSP_CACHE_DIR")) return (fs::path(d) / "roofline.json").string();
  if (const char* x = std::getenv("XDG_CACHE_HOME")) return (fs::path(x) / "osp" / "roofline.json").string();
  const char* home = std::getenv("HOME");
  return (fs::path(home != nullptr ? home : ".") / ".cache" / "osp" / "roofline.json").string();
}

Roofline cached_roofline(Context& ctx, DType dtype) {
  Roofline r;
  r.dtype = dtype;
  r.key = key_for(ctx, dtype);
  const nlohmann::json j = read_cache();
  if (j.contains(r.key) && j[r.key].contains("gflops") && j[r.key]["gflops"].is_number()) {
    r.gflops = j[r.key]["gflops"].get<double>();
    r.source = fmt::format("cached best, {}", j[r.key].value("date", "?"));
  }
  return r;
}

Roofline gemm_roofline(Context& ctx, DType dtype) {
  Roofline r = cached_roofline(ctx, dtype);
  const int reps = r.gflops > 0 ? 3 : 6;
  r.measured = best_of(ctx, dtype, reps);
  if (r.measured > r.gflops) {
    r.source = r.gflops > 0 ? fmt::format("best of {} runs now, above the cached {:.0f}", reps, r.gflops)
                            : fmt::format("best of {} runs now", reps);
    r.gflops = r.measured;
    write_cache(r.key, r.gflops, fmt::format("best of {} runs of {}^3", reps, kN));
  } else {
    r.source += fmt::format("; {:.0f} measured now", r.measured);
  }
  return r;
}

void Roofline::raise(double observed_gflops) {
  if (observed_gflops <= gflops) return;
  gflops = observed_gflops;
  source = "raised to the rate a training step reached";
  write_cache(key, gflops, "observed model FLOP rate of a training step");
}

std::string Roofline::describe() const {
  return fmt::format("{} GEMM {:.0f} GFLOP/s ({})", dtype_name(dtype), gflops, source);
}

}  // namespace osp::ops
