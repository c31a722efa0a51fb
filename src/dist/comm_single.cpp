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
    if (out.raw() != in.raw())
      std::memcpy(out.raw(), in.raw(), size_t(counts[0]) * dtype_size(in.dtype()));
  }
  void all_gather_v(TensorView, std::span<const int64_t>, std::span<const int64_t>) override {}
  void gather_v(TensorView full, TensorView part, std::span<const int64_t> counts, std::span<const int64_t> displs,
                int) override {
    copy_into(full, displs[0], part, counts[0]);
  }
  void scatter_v(TensorView part, TensorView full, std::span<const int64_t> counts, std::span<const int64_t> displs,
                 int) override {
    const size_t esz = dtype_size(full.dtype());
    if (part.raw() != static_cast<std::byte*>(full.raw()) + displs[0] * int64_t(esz))
      std::memcpy(part.raw(), static_cast<std::byte*>(full.raw()) + displs[0] * int64_t(esz), size_t(counts[0]) * esz);
  }
  void broadcast(TensorView, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }

 private:
  static void copy_into(TensorView full, int64_t at, TensorView part, int64_t n) {
    const size_t esz = dtype_size(full.dtype());
    std::byte* dst = static_cast<std::byte*>(full.raw()) + at * int64_t(esz);
    if (dst != part.raw()) std::memcpy(dst, part.raw(), size_t(n) * esz);
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
