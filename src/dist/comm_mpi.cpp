// The MPI Comm (Open MPI on Debian): MPI_COMM_WORLD, one rank per process, OpenMP threads inside
// a rank never call MPI (MPI_THREAD_FUNNELED). Counts above 2^31 − 1 elements are refused.
#include <mpi.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "dist/comm.h"

namespace osp::dist {
namespace {

MPI_Datatype mpi_type(DType d) {
  switch (d) {
    case DType::kF32: return MPI_FLOAT;
    case DType::kF64: return MPI_DOUBLE;
    case DType::kI32: return MPI_INT32_T;
    default: OSP_CHECK(false, "no MPI type for {}", dtype_name(d));
  }
  return MPI_BYTE;
}

std::vector<int> as_int(std::span<const int64_t> v) {
  std::vector<int> out;
  for (int64_t x : v) {
    OSP_CHECK(x >= 0 && x <= INT32_MAX, "MPI count {} out of range", x);
    out.push_back(int(x));
  }
  return out;
}

int as_int(int64_t x) {
  OSP_CHECK(x >= 0 && x <= INT32_MAX, "MPI count {} out of range", x);
  return int(x);
}

class MpiComm final : public Comm {
 public:
  MpiComm() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &local_size_);
    MPI_Comm_free(&local);
    // Errors in a collective end the job (the default), never return half-done.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  }
  ~MpiComm() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_size() const override { return local_size_; }

  std::string describe() const override {
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
    int len = 0;
    MPI_Get_library_version(version, &len);
    std::string v(version, size_t(len));
    v = v.substr(0, v.find_first_of(",\n"));
    return fmt::format("MPI ({}), {} ranks", v, size_);
  }

  std::vector<std::string> hosts() override {
    char name[MPI_MAX_PROCESSOR_NAME] = {0};
    int len = 0;
    MPI_Get_processor_name(name, &len);
    std::vector<char> all(size_t(size_) * MPI_MAX_PROCESSOR_NAME, 0);
    MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, MPI_COMM_WORLD);
    std::vector<std::string> out;
    for (int r = 0; r < size_; ++r) out.emplace_back(all.data() + size_t(r) * MPI_MAX_PROCESSOR_NAME);
    return out;
  }

  void all_reduce_sum(TensorView x) override {
    Timed t(*this, x.numel() * int64_t(dtype_size(x.dtype())));
    MPI_Allreduce(MPI_IN_PLACE, x.raw(), as_int(x.numel()), mpi_type(x.dtype()), MPI_SUM, MPI_COMM_WORLD);
  }

  void reduce_scatter_sum(TensorView out, TensorView in, std::span<const int64_t> counts) override {
    Timed t(*this, in.numel() * int64_t(dtype_size(in.dtype())));
    const auto c = as_int(counts);
    MPI_Reduce_scatter(in.raw(), out.raw(), c.data(), mpi_type(in.dtype()), MPI_SUM, MPI_COMM_WORLD);
  }

  void all_gather_v(TensorView x, std::span<const int64_t> counts, std::span<const int64_t> displs) override {
    Timed t(*this, counts[size_t(rank_)] * int64_t(dtype_size(x.dtype())) * (size_ - 1));
    const auto c = as_int(counts), d = as_int(displs);
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, x.raw(), c.data(), d.data(), mpi_type(x.dtype()),
                   MPI_COMM_WORLD);
  }

  void gather_v(TensorView full, TensorView part, std::span<const int64_t> counts, std::span<const int64_t> displs,
                int root) override {
    Timed t(*this, counts[size_t(rank_)] * int64_t(dtype_size(part.dtype())));
    const auto c = as_int(counts), d = as_int(displs);
    MPI_Gatherv(part.raw(), c[size_t(rank_)], mpi_type(part.dtype()), full.raw(), c.data(), d.data(),
                mpi_type(part.dtype()), root, MPI_COMM_WORLD);
  }

  void scatter_v(TensorView part, TensorView full, std::span<const int64_t> counts, std::span<const int64_t> displs,
                 int root) override {
    Timed t(*this, rank_ == root ? full.numel() * int64_t(dtype_size(full.dtype())) : 0);
    const auto c = as_int(counts), d = as_int(displs);
    MPI_Scatterv(full.raw(), c.data(), d.data(), mpi_type(part.dtype()), part.raw(), c[size_t(rank_)],
                 mpi_type(part.dtype()), root, MPI_COMM_WORLD);
  }

  void broadcast(TensorView x, int root) override {
    Timed t(*this, rank_ == root ? x.numel() * int64_t(dtype_size(x.dtype())) : 0);
    MPI_Bcast(x.raw(), as_int(x.numel()), mpi_type(x.dtype()), root, MPI_COMM_WORLD);
  }

  void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }

  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  // Counts a collective's bytes and time.
  struct Timed {
    Timed(MpiComm& c, int64_t bytes) : comm(c), t0(std::chrono::steady_clock::now()) { comm.bytes_ += bytes; }
    ~Timed() { comm.seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
    MpiComm& comm;
    std::chrono::steady_clock::time_point t0;
  };
  int rank_ = 0, size_ = 1, local_size_ = 1;
};

}  // namespace

std::unique_ptr<Comm> make_comm(int* argc, char*** argv) {
  if (!launched_by_mpi()) return make_single_comm();
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  return std::make_unique<MpiComm>();
}

}  // namespace osp::dist
