// A persistent pool of worker threads for data-parallel kernels: parallel_for splits [0, n) into
// one contiguous chunk per thread (the caller's thread takes chunk 0) and returns when all are
// done. Threads are created once per process, not per call: kernels run thousands of times per token.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llmpipe {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads >= 1, counting the caller
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  // Calls fn(begin, end, thread_index) on disjoint chunks covering [0, n); chunk edges are
  // multiples of `grain` (except the end) so that kernels can keep blocks whole.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                    int64_t grain = 1);

 private:
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0, job_grain_ = 1;
  uint64_t job_id_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

// Threads a process may use: sched_getaffinity (honours Slurm's --cpus-per-task and taskset).
int available_cpus();

}  // namespace llmpipe
