// The roofline MFU is measured against: the GEMM rate this machine reaches for a dtype (f32 on
// OpenBLAS, bf16 on oneDNN), with the context's threads, on n = 2048 square products.
//
// One measurement taken while other work shares the cores under-measures the peak (a demo beside
// other processes once printed MFU of 133-140%). So the peak is the best of several runs, kept in
// a per-machine cache (keyed by CPU model, BLAS kernel, dtype and threads) that only ever rises;
// and a trainer that observes a higher model FLOP rate than the peak raises it (raise()), since
// achieved FLOPs are a lower bound on the peak. MFU is therefore never above 100%.
#pragma once
#include <string>

#include "ops/context.h"

namespace osp::ops {

struct Roofline {
  DType dtype = DType::kF32;
  double gflops = 0;    // the peak used
  double measured = 0;  // this process's best, 0 if it did not measure
  std::string source;   // "best of 5 runs now" / "cached best (2026-12-06), 3 runs now: 280"
  std::string key;      // the cache key

  // Raises the peak to an observed rate (GFLOP/s) above it and records it in the cache.
  void raise(double observed_gflops);
  std::string describe() const;  // "fp32 GEMM 291 GFLOP/s (cached best ...)"
};

// Measures (reps runs, more when nothing is cached) and combines with the cache.
Roofline gemm_roofline(Context& ctx, DType dtype);
// The cached peak without measuring; gflops 0 when none is cached.
Roofline cached_roofline(Context& ctx, DType dtype);

// Where the cache lives: $OSP_CACHE_DIR, else $XDG_CACHE_HOME/osp, else ~/.cache/osp.
std::string roofline_cache_path();

}  // namespace osp::ops
