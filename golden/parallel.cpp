#include "golden/parallel.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace octet::golden {

namespace {

// True on pool workers and on a caller while it runs its chunks: nested calls run serially.
thread_local bool t_inside_parallel = false;

class WorkerPool {
 public:
  ~WorkerPool() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
      ++generation_;
      generation_seen_.store(generation_, std::memory_order_release);
    }
    work_cv_.notify_all();
    for (auto& w : workers_) w.join();
  }

  void run(int chunks, const std::function<void(int)>& chunk) {
    std::lock_guard call(call_m_);  // one parallel region at a time
    while (static_cast<int>(workers_.size()) < chunks - 1) workers_.emplace_back([this] { worker_loop(); });
    uint64_t gen;
    {
      std::lock_guard lock(m_);
      job_ = &chunk;
      chunks_ = chunks;
      next_ = 0;
      pending_ = chunks;
      error_ = nullptr;
      gen = ++generation_;
      pending_seen_.store(chunks, std::memory_order_release);
      generation_seen_.store(gen, std::memory_order_release);
    }
    work_cv_.notify_all();
    t_inside_parallel = true;
    run_claimed(gen);
    t_inside_parallel = false;
    // Workers usually finish within microseconds of the caller: spin briefly, then block.
    spin_until([&] { return pending_seen_.load(std::memory_order_acquire) == 0; });
    std::unique_lock lock(m_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Spinning (with the CPU's pause hint, no system call) for up to 200 us covers the serial
  // gaps between the parallel regions of a training step, so a worker rarely has to be woken.
  template <typename Pred>
  static void spin_until(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    for (int i = 0; !pred(); ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (i % 64 == 63 && std::chrono::steady_clock::now() >= deadline) return;
    }
  }

  // Claims and runs chunks of generation `gen` until none are left.
  void run_claimed(uint64_t gen) {
    for (;;) {
      int t;
      const std::function<void(int)>* job;
      {
        std::lock_guard lock(m_);
        if (generation_ != gen || next_ >= chunks_) return;
        t = next_++;
        job = job_;
      }
      std::exception_ptr err;
      try {
        (*job)(t);
      } catch (...) {
        err = std::current_exception();
      }
      bool last;
      {
        std::lock_guard lock(m_);
        // The lowest failing chunk's exception, as a serial run would throw it.
        if (err && (!error_ || t < error_chunk_)) {
          error_ = err;
          error_chunk_ = t;
        }
        last = --pending_ == 0;
        pending_seen_.store(pending_, std::memory_order_release);
      }
      if (last) done_cv_.notify_all();
    }
  }

  void worker_loop() {
    t_inside_parallel = true;
    uint64_t seen = 0;
    for (;;) {
      spin_until([&] { return generation_seen_.load(std::memory_order_acquire) != seen; });
      uint64_t gen;
      {
        std::unique_lock lock(m_);
        work_cv_.wait(lock, [&] { return generation_ != seen; });
        if (stop_) return;
        gen = seen = generation_;
      }
      run_claimed(gen);
    }
  }

  std::mutex call_m_;
  std::mutex m_;
  std::condition_variable work_cv_, done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  int chunks_ = 0, next_ = 0, pending_ = 0, error_chunk_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::atomic<uint64_t> generation_seen_{0};
  std::atomic<int> pending_seen_{0};
};

WorkerPool& pool() {
  static WorkerPool p;
  return p;
}

}  // namespace

void run_chunks(int chunks, const std::function<void(int)>& chunk) {
  if (chunks <= 1 || t_inside_parallel) {
    for (int t = 0; t < chunks; ++t) chunk(t);
    return;
  }
  pool().run(chunks, chunk);
}

}  // namespace octet::golden
