// The world of a data-parallel run: how many threads each rank uses, the start-up line that
// describes the ranks and hosts, and the check that every rank runs the same binary with the same
// configuration (launching two builds or two configs by mistake must fail at once, not diverge).
#pragma once
#include <string>

#include "core/result.h"
#include "dist/comm.h"
#include "train/run_config.h"

namespace osp::train {

// train.threads if set; with several ranks on a host, the host's cores divided among them (so 2
// ranks on 2 cores run 1 thread each); else 0 (OpenMP's default).
int threads_per_rank(const RunConfig& config, const dist::Comm& comm);

// "world: MPI (Open MPI v4.1.4), 2 ranks on 2 hosts (ns-a: rank 0; ns-b: rank 1), 1 thread per
// rank". A collective: every rank calls it.
std::string describe_world(dist::Comm& comm, int threads);

// Compares a hash of the resolved config and one of the running binary across ranks; an error on
// every rank (naming the ranks that differ from rank 0) if any differ. A collective.
Status check_same_run(dist::Comm& comm, const RunConfig& config);

}  // namespace osp::train
