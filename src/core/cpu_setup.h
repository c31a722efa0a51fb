// Process-level CPU setup: pick OpenBLAS's fast kernel on CPUs its detection misses, verify it,
// and turn on flush-to-zero. See ../shared/design/cpu-performance.md for why this exists.
#pragma once
#include <string>

namespace osp {

// Call first in main(). If OPENBLAS_CORETYPE is unset and the CPU has AVX-512 (or AVX2), sets it
// and re-executes the process once so OpenBLAS loads the fast kernel. A user's explicit
// OPENBLAS_CORETYPE always wins. Set OSP_BLAS_AUTO=0 to disable. Also picks the OpenMP wait
// policy when the user has not: passive, or a short spin for latency-bound work (decoding).
void select_blas_kernel(char** argv, bool latency_bound = false);

// Checks one SGEMM against a naive double-precision product; on a wrong result from a kernel
// osp selected, re-executes with the AVX2 kernel. Returns false if BLAS is wrong and unfixable.
bool verify_blas(char** argv);

// Denormals are flushed to zero: denormal optimizer state slowed a prototype 2.4x.
void enable_flush_to_zero();

// "OpenBLAS 0.3.21, kernel SkylakeX (selected by osp), 2 threads".
std::string blas_description();
// The OpenBLAS kernel in use ("SkylakeX").
std::string blas_kernel_name();
// The CPU's model name from /proc/cpuinfo ("AMD EPYC 9R14"), or "unknown CPU".
std::string cpu_model_name();

}  // namespace osp
