// The single-process Comm: every collective over one rank is a copy or nothing.
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include "dist/comm.h"

namespace osp::dist {
namespace {

class SingleComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string describe() const override { return "single process"; }
  std::vector<std::string> hosts() override {
    char name[256] = {0};
    gethostname(name, sizeof name - 1);
    return {name};
  }
  int local_size() const override { return 1; }
  void all_reduce_sum(TensorView) override {}
  void reduce_scatter_sum(TensorView out, TensorView in, std::span<const int64_t> counts) override {
    copy(out.raw(), in.raw(), counts[0], in.dtype());
  }
  void all_gather_v(TensorView, std::span<const int64_t>, std::span<const int64_t>) override {}
  void gather_v(TensorView full, TensorView part, std::span<const int64_t> counts, std::span<const int64_t> displs,
                int) override {
    copy(at(full, displs[0]), part.raw(), counts[0], part.dtype());
  }
  void scatter_v(TensorView part, TensorView full, std::span<const int64_t> counts, std::span<const int64_t> displs,
                 int) override {
    copy(part.raw(), at(full, displs[0]), counts[0], full.dtype());
  }
  void broadcast(TensorView, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }

 private:
  static void* at(const TensorView& v, int64_t element) {
    return static_cast<std::byte*>(v.raw()) + element * int64_t(dtype_size(v.dtype()));
  }
  // n elements; nothing to do when the part already is in place.
  static void copy(void* dst, const void* src, int64_t n, DType dtype) {
    if (dst != src && n > 0) std::memcpy(dst, src, size_t(n) * dtype_size(dtype));
  }
};

}  // namespace

std::unique_ptr<Comm> make_single_comm() { return std::make_unique<SingleComm>(); }

bool launched_by_mpi() {
  // Open MPI's mpirun; MPICH/Hydra and Slurm's PMI2; srun's job step (with PMIx too).
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && std::atoi(v) > 1) return true;
  }
  return false;
}

}  // namespace osp::dist
