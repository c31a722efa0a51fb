// dist::Comm: the collectives data-parallel training needs (rank, size, all_reduce,
// reduce_scatter, all_gather(v), gather(v)/scatter(v), broadcast, barrier), with a single-process
// implementation and an MPI one (Debian's OpenMPI; NCCL is to join it for GPUs). The model never
// sees a Comm; the trainer and the optimizer's sharding do (../shared/design/ARCHITECTURE.md).
//
//   auto comm = dist::make_comm(&argc, &argv);   // MPI under mpirun / srun, else one process
//   comm->all_reduce_sum(TensorView::of(&loss, {1}));
//
// Buffers are host views (f32, f64 or i32; the CPU backend's memory); counts and displacements are
// in elements. Every collective must be called by every rank in the same order.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace osp::dist {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "single process" / "MPI (Open MPI v4.1.4), 2 ranks on 1 host (ranks per host: 2)".
  virtual std::string describe() const = 0;
  // The host name of every rank (rank order).
  virtual std::vector<std::string> hosts() = 0;
  // Ranks on this rank's host (to divide its cores among them).
  virtual int local_size() const = 0;

  // x ← Σ over ranks of x, in place.
  virtual void all_reduce_sum(TensorView x) = 0;
  // out (counts[rank] elements) ← Σ over ranks of in[displ(rank) .. + counts[rank]), with
  // displ(r) = Σ_{q<r} counts[q]; in holds Σ counts elements.
  virtual void reduce_scatter_sum(TensorView out, TensorView in, std::span<const int64_t> counts) = 0;
  // x[displs[r] .. + counts[r]) ← rank r's part of x, for every r; in place.
  virtual void all_gather_v(TensorView x, std::span<const int64_t> counts, std::span<const int64_t> displs) = 0;
  // On root: full[displs[r] .. + counts[r]) ← rank r's part; full is only read on root.
  virtual void gather_v(TensorView full, TensorView part, std::span<const int64_t> counts,
                        std::span<const int64_t> displs, int root) = 0;
  // part ← root's full[displs[rank] .. + counts[rank]).
  virtual void scatter_v(TensorView part, TensorView full, std::span<const int64_t> counts,
                         std::span<const int64_t> displs, int root) = 0;
  virtual void broadcast(TensorView x, int root) = 0;
  virtual void barrier() = 0;
  // Ends the whole job now with exit status `code` (MPI_Abort): a failing rank never leaves the
  // others waiting in a collective.
  [[noreturn]] virtual void abort(int code) = 0;

  // Bytes this rank handed to collectives, and seconds it spent in them, since the last reset.
  int64_t bytes() const { return bytes_; }
  double seconds() const { return seconds_; }
  void reset_counters() { bytes_ = 0, seconds_ = 0; }

 protected:
  int64_t bytes_ = 0;
  double seconds_ = 0;
};

// True when the process was started by an MPI launcher (mpirun, mpiexec, srun) with more than one
// rank: Open MPI's OMPI_COMM_WORLD_SIZE, PMI's PMI_SIZE or Slurm's SLURM_STEP_NUM_TASKS.
bool launched_by_mpi();

// MPI when launched_by_mpi() (initialising MPI), else the single-process Comm.
std::unique_ptr<Comm> make_comm(int* argc, char*** argv);
std::unique_ptr<Comm> make_single_comm();

}  // namespace osp::dist
