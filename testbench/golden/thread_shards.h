// K shards of a data-parallel batch as K threads of one process, combined at a barrier: the
// golden model's data-parallel identity tested without MPI (tools/mpi_reducer does the same
// across processes).
#pragma once

#include <barrier>
#include <functional>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "golden/batch_reducer.h"

namespace octet::testing {

class ThreadShardGroup {
 public:
  explicit ThreadShardGroup(int shards) : barrier_(shards), slots_(static_cast<size_t>(shards)) {
    for (int r = 0; r < shards; ++r) members_.push_back(std::make_unique<Member>(*this, r));
  }
  int size() const { return static_cast<int>(members_.size()); }
  const golden::BatchReducer& member(int rank) const { return *members_[static_cast<size_t>(rank)]; }

  // Runs body(rank) on every shard, each in its own thread, and waits for all.
  void run(const std::function<void(int rank)>& body) {
    std::vector<std::thread> threads;
    for (int r = 0; r < size(); ++r) threads.emplace_back(body, r);
    for (std::thread& t : threads) t.join();
  }

 private:
  class Member final : public golden::BatchReducer {
   public:
    Member(ThreadShardGroup& g, int rank) : g_(g), rank_(rank) {}
    void sum(std::span<int64_t> v) const override { combine(v, [](int64_t a, int64_t b) { return a + b; }); }
    void sum(std::span<golden::uint128> v) const override {
      combine(v, [](golden::uint128 a, golden::uint128 b) { return a + b; });
    }
    void max(std::span<uint64_t> v) const override { combine(v, [](uint64_t a, uint64_t b) { return a > b ? a : b; }); }
    void sum(std::span<double> v) const override { combine(v, [](double a, double b) { return a + b; }); }

   private:
    // Publish this shard's values, read everyone's once all have published, and write the
    // result back only after all have read.
    template <typename T, typename Op>
    void combine(std::span<T> v, Op op) const {
      g_.slots_[static_cast<size_t>(rank_)] = v.data();
      g_.barrier_.arrive_and_wait();
      const T* first = static_cast<const T*>(g_.slots_[0]);
      std::vector<T> out(first, first + v.size());  // in rank order, so every shard gets the same doubles
      for (size_t r = 1; r < g_.slots_.size(); ++r) {
        const T* other = static_cast<const T*>(g_.slots_[r]);
        for (size_t i = 0; i < out.size(); ++i) out[i] = op(out[i], other[i]);
      }
      g_.barrier_.arrive_and_wait();
      std::copy(out.begin(), out.end(), v.begin());
    }
    ThreadShardGroup& g_;
    int rank_;
  };

  std::barrier<> barrier_;
  std::vector<const void*> slots_;
  std::vector<std::unique_ptr<Member>> members_;
};

}  // namespace octet::testing
