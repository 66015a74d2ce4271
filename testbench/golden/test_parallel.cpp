// parallel_for on the persistent worker pool: every index runs exactly once, in contiguous
// chunks, for any thread count; nested calls run serially; an exception in any chunk reaches
// the caller; the pool survives thousands of back-to-back calls.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "golden/parallel.h"

using octet::golden::parallel_for;

TEST(ParallelFor, EveryIndexOnceForAnyThreadCount) {
  for (int threads = 1; threads <= 5; ++threads)
    for (int64_t n : {0, 1, 2, 3, 7, 64, 1000}) {
      std::vector<int> hits(static_cast<size_t>(n), 0);
      parallel_for(n, threads, [&](int64_t i) { ++hits[static_cast<size_t>(i)]; });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i], 1) << "n " << n << " threads " << threads << " i " << i;
    }
}

TEST(ParallelFor, ChunksAreContiguousAndRunOnSeveralThreads) {
  const int64_t n = 1000;
  std::vector<std::thread::id> owner(n);
  std::atomic<bool> second_started{false};
  parallel_for(n, 2, [&](int64_t i) {
    owner[i] = std::this_thread::get_id();
    if (i == 500) second_started = true;
    // The first chunk waits (no timeout) until the second has started: only another thread
    // can start it, so a pool that ran chunks one after the other would hang here.
    if (i == 0)
      while (!second_started) std::this_thread::yield();
  });
  // Two chunks [0, 500) and [500, 1000): each is run by one thread.
  for (int64_t i = 1; i < 500; ++i) ASSERT_EQ(owner[i], owner[0]) << i;
  for (int64_t i = 501; i < n; ++i) ASSERT_EQ(owner[i], owner[500]) << i;
  EXPECT_NE(owner[0], owner[500]) << "the two chunks ran one after the other on one thread";
}

TEST(ParallelFor, NestedCallsRunSerially) {
  std::atomic<int64_t> sum{0};
  parallel_for(4, 2, [&](int64_t i) { parallel_for(10, 2, [&](int64_t j) { sum += i * 10 + j; }); });
  EXPECT_EQ(sum.load(), 780);  // sum of 0..39
}

TEST(ParallelFor, ExceptionInAWorkerChunkReachesTheCaller) {
  for (int64_t bad : {0, 99}) {
    EXPECT_THROW(parallel_for(100, 3, [&](int64_t i) {
                   if (i == bad) throw std::overflow_error("boom");
                 }),
                 std::overflow_error);
  }
  // The pool still works afterwards.
  std::atomic<int> count{0};
  parallel_for(10, 3, [&](int64_t) { ++count; });
  EXPECT_EQ(count.load(), 10);
}

TEST(ParallelFor, TheLowestFailingChunksExceptionWins) {
  for (int repeat = 0; repeat < 50; ++repeat) {
    try {
      parallel_for(100, 2, [&](int64_t i) {
        if (i == 0 || i == 99) throw std::runtime_error(std::to_string(i));
      });
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      ASSERT_STREQ(e.what(), "0") << "repeat " << repeat;
    }
  }
}

TEST(ParallelFor, ManyBackToBackCalls) {
  int64_t total = 0;
  for (int call = 0; call < 20000; ++call) {
    std::vector<int64_t> part(2, 0);
    parallel_for(2, 2, [&](int64_t i) { part[i] = i + call; });
    total += part[0] + part[1];
  }
  EXPECT_EQ(total, 2 * (int64_t{19999} * 20000 / 2) + 20000);
}
