// A minimal deterministic parallel-for: splits [0, n) into contiguous chunks, one per
// thread. Integer kernels write disjoint outputs, so results never depend on the split.
// The chunks run on a persistent worker pool (threads are not created per call: a training
// step makes hundreds of calls); a call from inside a worker runs serially.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

namespace octet::golden {

// Runs chunk(t) for t in [0, chunks) on the pool and the calling thread (which claims chunks
// too) and waits for all. If chunks throw, the lowest such chunk's exception is rethrown.
void run_chunks(int chunks, const std::function<void(int)>& chunk);

template <typename F>
void parallel_for(int64_t n, int threads, F body) {
  threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
  if (threads == 1) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  const int64_t chunk = (n + threads - 1) / threads;
  const int chunks = static_cast<int>((n + chunk - 1) / chunk);
  run_chunks(chunks, [&](int t) {
    const int64_t begin = t * chunk, end = std::min(n, begin + chunk);
    for (int64_t i = begin; i < end; ++i) body(i);
  });
}

// Element-wise kernels: below this many elements per worker, waking a worker costs more than it saves.
inline constexpr int64_t kMinElementsPerWorker = 32 * 1024;

// Workers for an element-wise pass over n elements: at most `threads`, at least 1.
inline int element_workers(int64_t n, int threads) {
  return static_cast<int>(std::clamp<int64_t>(n / kMinElementsPerWorker, 1, std::max(1, threads)));
}

// Runs f(chunk, begin, end) over `workers` contiguous chunks of [0, n).
template <typename F>
void for_each_chunk(int64_t n, int workers, F f) {
  if (workers <= 1) {
    f(int64_t{0}, int64_t{0}, n);
    return;
  }
  parallel_for(workers, workers, [&](int64_t c) { f(c, c * n / workers, (c + 1) * n / workers); });
}

}  // namespace octet::golden
