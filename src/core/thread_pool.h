// A persistent pool of worker threads for data-parallel kernels: parallel_for splits [0, n) into
// one contiguous chunk per thread (the caller's thread takes chunk 0) and returns when all are
// done. Threads are created once per process, not per call: kernels run thousands of times per token.
//
// Hand-offs spin before they sleep: a decode step is hundreds of parallel_for calls a few
// hundred microseconds apart, and waking a thread blocked on a futex costs tens of microseconds
// on a VM (measured: 15% of a 2-thread decode). Workers poll for the next job for kSpin, then
// block on a condition variable, so an idle pool (a stage waiting for its input) costs nothing.
#pragma once

#include <atomic>
#include <chrono>
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
  // Calls fn(begin, end, thread_index) on the chunks [i * chunk, (i + 1) * chunk) ∩ [0, n),
  // each thread taking the next untaken chunk when it finishes one (an atomic counter). For
  // memory-bound kernels on shared machines: when one core is slowed (another tenant, an
  // interrupt), a static split leaves the other thread idle at the end while half the memory
  // bandwidth goes unused; here the other thread takes over the slowed one's chunks.
  void parallel_for_dynamic(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                            int64_t chunk);

  // How long an idle worker polls for the next job before it sleeps.
  static constexpr std::chrono::microseconds kSpin{200};

 private:
  void worker(int index);
  void run_share(int index);  // this thread's part of the current job
  // Both parallel_fors: publishes the job (grain: the static split's unit or the dynamic chunk)
  // and runs the caller's share.
  void run_job(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain,
               bool dynamic);
  bool wait_for_job(uint64_t seen);  // false: stop

  int n_threads_;
  std::vector<std::thread> workers_;
  // The job: written by parallel_for before job_id_ is bumped (release), read after (acquire).
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0, job_grain_ = 1;
  bool job_dynamic_ = false;
  std::atomic<int64_t> next_chunk_{0};  // dynamic jobs: the first chunk not yet taken
  std::atomic<uint64_t> job_id_{0};
  std::atomic<int> pending_{0};  // workers still running the current job
  std::atomic<int> sleepers_{0};  // workers blocked on start_cv_
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // only for sleeping and waking
  std::condition_variable start_cv_;
};

// Threads a process may use: sched_getaffinity (honours Slurm's --cpus-per-task and taskset).
int available_cpus();

}  // namespace llmpipe
