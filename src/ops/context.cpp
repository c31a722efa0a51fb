// Context construction; the oneDNN handles are built lazily (most commands never multiply bf16).
#include "ops/context.h"

#include <fmt/format.h>
#include <omp.h>

#include "ops/cpu/gemm_dnnl.h"

namespace osp::ops {

Context::Context(Device device, uint64_t seed) : device_(device), rng_(seed) {}
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;
Context::~Context() = default;

Context Context::cpu(int threads, uint64_t seed) {
  if (threads > 0) omp_set_num_threads(threads);
  return Context(Device::kCpu, seed);
}

int Context::threads() const { return omp_get_max_threads(); }

cpu::DnnlHandles& Context::dnnl() {
  if (!dnnl_) dnnl_ = cpu::make_dnnl_handles();
  return *dnnl_;
}

std::string Context::describe() const {
  return fmt::format("{}, {} threads", device_name(device_), threads());
}

void no_kernel(const char* op, Device device) {
  OSP_CHECK(false, "ops::{} has no kernel for device {} in this build", op, device_name(device));
  std::abort();
}

}  // namespace osp::ops
