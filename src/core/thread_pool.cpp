#include "core/thread_pool.h"

#include <sched.h>

#include "core/error.h"

namespace llmpipe {

namespace {
// Chunk t of n items over `parts` threads, edges rounded to multiples of grain.
std::pair<int64_t, int64_t> chunk(int64_t n, int64_t grain, int parts, int t) {
  const int64_t blocks = (n + grain - 1) / grain;
  const int64_t b0 = blocks * t / parts, b1 = blocks * (t + 1) / parts;
  return {std::min(n, b0 * grain), std::min(n, b1 * grain)};
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads) {
  if (n_threads < 1) fail("thread count must be at least 1, got ", n_threads);
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                              int64_t grain) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n <= grain) {
    fn(0, n, 0);
    return;
  }
  {
    std::lock_guard lock(mu_);
    job_ = &fn;
    job_n_ = n;
    job_grain_ = grain;
    pending_ = n_threads_ - 1;
    ++job_id_;
  }
  start_cv_.notify_all();
  const auto [b, e] = chunk(n, grain, n_threads_, 0);
  if (b < e) fn(b, e, 0);
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int64_t, int64_t, int)>* job;
    int64_t n, grain;
    {
      std::unique_lock lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || job_id_ != seen; });
      if (stop_) return;
      seen = job_id_;
      job = job_;
      n = job_n_;
      grain = job_grain_;
    }
    const auto [b, e] = chunk(n, grain, n_threads_, index);
    if (b < e) (*job)(b, e, index);
    {
      std::lock_guard lock(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace llmpipe
