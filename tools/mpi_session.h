// Data-parallel octet-train over MPI (docs/user-guide.md, "Training on a cluster"). Started by
// a launcher (mpirun -np K, srun --mpi=pmix -n K), the K processes of MPI_COMM_WORLD are the
// shards of every global batch, and the session's reducer combines their values with
// MPI_Allreduce (golden/batch_reducer.h). Started without a launcher, octet-train runs alone
// and never initialises MPI.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "golden/batch_reducer.h"

namespace octet::tools {

class MpiSession {
 public:
  // A session when a launcher started this process (as one of several ranks), else null (a
  // single process needs no MPI). Throws InputError when launched so by a build without MPI.
  static std::unique_ptr<MpiSession> start_if_launched(int* argc, char*** argv);
  // True when this build can run data-parallel.
  static bool available();

  ~MpiSession();  // MPI_Finalize
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  const golden::BatchReducer& reducer() const { return *reducer_; }

  // What this rank's reducer has cost so far: MPI_Allreduce calls, the bytes they reduced (each
  // rank's buffer, not the network traffic), and the wall time spent in them, which includes
  // waiting for slower ranks.
  struct CommStats {
    uint64_t calls = 0, bytes = 0;
    double seconds = 0;
  };
  CommStats comm_stats() const;

  // Every rank's status (0: ready to train), gathered on every rank: the one collective
  // before training, so that a rank that failed to set up never leaves the others waiting.
  std::vector<int> gather_status(int status) const;
  // Ends every rank at once with `status` (a failure during training, when the others may be
  // waiting in a collective).
  [[noreturn]] void abort(int status) const;

 private:
  MpiSession() = default;
  int rank_ = 0, size_ = 1;
  std::unique_ptr<golden::BatchReducer> reducer_;
};

// The number of ranks a launcher started this process with, from its environment (Open MPI's
// mpirun, PMI-1/2, PMIx as under srun --mpi=pmix); 1 without a launcher, -1 when launched with
// a count the environment does not say.
int launched_ranks();

}  // namespace octet::tools
