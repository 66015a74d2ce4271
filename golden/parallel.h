// A minimal deterministic parallel-for: splits [0, n) into contiguous chunks, one per
// thread. Integer kernels write disjoint outputs, so results never depend on the split.
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace octet::golden {

template <typename F>
void parallel_for(int64_t n, int threads, F body) {
  threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
  if (threads == 1) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t chunk = (n + threads - 1) / threads;
  for (int t = 0; t < threads; ++t) {
    const int64_t begin = t * chunk, end = std::min(n, begin + chunk);
    if (begin >= end) break;
    pool.emplace_back([=, &body] {
      for (int64_t i = begin; i < end; ++i) body(i);
    });
  }
  for (auto& th : pool) th.join();
}

}  // namespace octet::golden
