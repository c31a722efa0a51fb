// The execution context every op receives (../shared/design/ARCHITECTURE.md, Backends): the device
// the ops run on, the thread count, the run's random generator, the backend handles — oneDNN's
// engine and stream for the CPU's bf16 GEMMs, and the stream slot a CUDA context will fill — and
// the communicator of a data-parallel run (used by the trainer and the optimizer, never by an op).
// It is created once (per command or run) and passed explicitly; nothing in osp is global.
//
//   ops::Context ctx = ops::Context::cpu(/*threads=*/2, /*seed=*/0);
//   ops::matmul_forward(ctx, y, x, w);
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/rng.h"
#include "core/tensor.h"

namespace osp::dist {
class Comm;  // the communicator of data-parallel training (src/dist/comm.h)
}

namespace osp::ops {

namespace cpu {
struct DnnlHandles;  // defined with the oneDNN GEMM (ops/cpu/gemm_dnnl.cpp)
struct DnnlHandlesDeleter {
  void operator()(DnnlHandles* h) const;
};
}  // namespace cpu

class Context {
 public:
  // A CPU context. threads > 0 sets OpenMP's thread count for the process (0 keeps its default).
  static Context cpu(int threads = 0, uint64_t seed = 0);
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  ~Context();

  Device device() const { return device_; }
  int threads() const;
  Rng& rng() { return rng_; }
  void* stream() const { return stream_; }  // a CUDA context's stream; null on the CPU
  cpu::DnnlHandles& dnnl();                 // created on first use
  // The run's communicator; null outside data-parallel training (one process).
  dist::Comm* comm() const { return comm_; }
  void set_comm(dist::Comm* comm) { comm_ = comm; }
  // "cpu, 2 threads" — for start-up lines.
  std::string describe() const;

 private:
  Context(Device device, uint64_t seed);
  Device device_;
  Rng rng_;
  void* stream_ = nullptr;
  dist::Comm* comm_ = nullptr;
  std::unique_ptr<cpu::DnnlHandles, cpu::DnnlHandlesDeleter> dnnl_;
};

// Ops call this for a device their build has no kernels for.
[[noreturn]] void no_kernel(const char* op, Device device);

}  // namespace osp::ops
