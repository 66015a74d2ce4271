// The data-parallel seam of an integer training step (docs/numerics.md §12). Every quantity
// a step takes over the whole batch goes through one of these calls: batch-norm moments and
// backward sums, weight and bias gradients, the max |x| behind the E1/E2 scales, the batch
// size the loss error divides by, and the step's report. Without a reducer a step sees one
// process's batch. With one, each process holds a shard of the global batch and the reducer
// combines the shards' values elementwise (tools/mpi_reducer: MPI_Allreduce). Integer sums
// and maxima are exact in any order, so K shards give the bits of one process.
#pragma once

#include <cstdint>
#include <span>

#include "golden/int_math.h"

namespace octet::golden {

class BatchReducer {
 public:
  virtual ~BatchReducer() = default;
  // In place: v[i] becomes the sum (or max) of v[i] over all shards. Every shard makes the
  // same calls in the same order with the same lengths.
  virtual void sum(std::span<int64_t> v) const = 0;
  virtual void sum(std::span<uint128> v) const = 0;  // modulo 2^128 (the callers' bounds keep it exact)
  virtual void max(std::span<uint64_t> v) const = 0;
  virtual void sum(std::span<double> v) const = 0;   // the step's report only, never the state

  int64_t sum(int64_t v) const {
    sum(std::span<int64_t>(&v, 1));
    return v;
  }
  uint64_t max(uint64_t v) const {
    max(std::span<uint64_t>(&v, 1));
    return v;
  }
};

}  // namespace octet::golden
