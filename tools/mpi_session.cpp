#include "mpi_session.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "golden/input_error.h"

#ifdef OCTET_WITH_MPI
#include <mpi.h>
#endif

namespace octet::tools {

namespace {
int positive_env(const char* var) {
  const char* v = std::getenv(var);
  if (v == nullptr || *v == '\0') return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return *end == '\0' && n >= 1 && n <= (1 << 24) ? static_cast<int>(n) : 0;
}
}  // namespace

int launched_ranks() {
  if (const int n = positive_env("OMPI_COMM_WORLD_SIZE")) return n;  // Open MPI's mpirun
  if (const int n = positive_env("PMI_SIZE")) return n;              // PMI-1/2 (srun --mpi=pmi2, MPICH)
  if (std::getenv("PMIX_RANK") != nullptr) {                          // PMIx (srun --mpi=pmix)
    const int n = positive_env("SLURM_STEP_NUM_TASKS");
    return n > 0 ? n : -1;
  }
  return 1;
}

#ifdef OCTET_WITH_MPI
namespace {

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}

// Unsigned 128-bit sums: no MPI type has them, so a 16-byte type and a user operation.
void sum_u128(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* a = static_cast<const golden::uint128*>(in);
  auto* b = static_cast<golden::uint128*>(inout);
  for (int i = 0; i < *len; ++i) b[i] += a[i];
}

class MpiReducer final : public golden::BatchReducer {
 public:
  MpiReducer() {
    check(MPI_Type_contiguous(16, MPI_BYTE, &u128_), "MPI_Type_contiguous");
    check(MPI_Type_commit(&u128_), "MPI_Type_commit");
    check(MPI_Op_create(&sum_u128, 1, &sum_u128_), "MPI_Op_create");
  }
  ~MpiReducer() override {
    MPI_Op_free(&sum_u128_);
    MPI_Type_free(&u128_);
  }
  void sum(std::span<int64_t> v) const override { all(v.data(), v.size(), MPI_INT64_T, MPI_SUM); }
  void sum(std::span<golden::uint128> v) const override { all(v.data(), v.size(), u128_, sum_u128_); }
  void max(std::span<uint64_t> v) const override { all(v.data(), v.size(), MPI_UINT64_T, MPI_MAX); }
  void sum(std::span<double> v) const override { all(v.data(), v.size(), MPI_DOUBLE, MPI_SUM); }
  MpiSession::CommStats stats() const { return stats_; }

 private:
  // In chunks of at most 2^30 elements (MPI counts are int).
  void all(void* data, size_t n, MPI_Datatype type, MPI_Op op) const {
    int bytes = 0;
    check(MPI_Type_size(type, &bytes), "MPI_Type_size");
    auto* p = static_cast<char*>(data);
    constexpr size_t kChunk = size_t{1} << 30;
    const double start = MPI_Wtime();
    for (size_t done = 0; done < n; done += kChunk) {
      const int count = static_cast<int>(std::min(kChunk, n - done));
      check(MPI_Allreduce(MPI_IN_PLACE, p + done * static_cast<size_t>(bytes), count, type, op, MPI_COMM_WORLD),
            "MPI_Allreduce");
    }
    stats_.seconds += MPI_Wtime() - start;
    stats_.calls += 1;
    stats_.bytes += n * static_cast<uint64_t>(bytes);
  }
  mutable MpiSession::CommStats stats_;  // the reducer's interface is const; the counts are bookkeeping
  MPI_Datatype u128_{};
  MPI_Op sum_u128_{};
};

}  // namespace

bool MpiSession::available() { return true; }

std::unique_ptr<MpiSession> MpiSession::start_if_launched(int* argc, char*** argv) {
  if (launched_ranks() == 1) return nullptr;
  check(MPI_Init(argc, argv), "MPI_Init");
  std::unique_ptr<MpiSession> s(new MpiSession());
  check(MPI_Comm_rank(MPI_COMM_WORLD, &s->rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &s->size_), "MPI_Comm_size");
  s->reducer_ = std::make_unique<MpiReducer>();
  return s;
}

MpiSession::CommStats MpiSession::comm_stats() const {
  return static_cast<const MpiReducer&>(*reducer_).stats();
}

MpiSession::~MpiSession() {
  reducer_.reset();
  MPI_Finalize();
}

std::vector<int> MpiSession::gather_status(int status) const {
  std::vector<int> all(static_cast<size_t>(size_));
  check(MPI_Allgather(&status, 1, MPI_INT, all.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
  return all;
}

void MpiSession::abort(int status) const {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);
}

#else  // a build without MPI: one process only

bool MpiSession::available() { return false; }

std::unique_ptr<MpiSession> MpiSession::start_if_launched(int*, char***) {
  const int k = launched_ranks();
  if (k != 1)
    throw InputError("started by an MPI launcher as one of " + (k > 1 ? std::to_string(k) : std::string("several")) +
                     " processes, but this octet-train was built without MPI (install libopenmpi-dev and rebuild)");
  return nullptr;
}

MpiSession::~MpiSession() = default;
MpiSession::CommStats MpiSession::comm_stats() const { return {}; }
std::vector<int> MpiSession::gather_status(int status) const { return {status}; }
void MpiSession::abort(int status) const { std::_Exit(status); }

#endif

}  // namespace octet::tools
