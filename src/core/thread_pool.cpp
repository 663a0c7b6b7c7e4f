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

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads) {
  if (n_threads < 1) fail("thread count must be at least 1, got ", n_threads);
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  { std::lock_guard lock(mu_); }  // a worker between its check and its wait sees stop_ after
  start_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                              int64_t grain) {
  run_job(n, fn, grain, /*dynamic=*/false);
}

void ThreadPool::parallel_for_dynamic(int64_t n,
                                      const std::function<void(int64_t, int64_t, int)>& fn,
                                      int64_t chunk) {
  if (chunk < 1) fail("parallel_for_dynamic: chunk of ", chunk, " items");
  run_job(n, fn, chunk, /*dynamic=*/true);
}

void ThreadPool::run_job(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                         int64_t grain, bool dynamic) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n <= grain) {
    fn(0, n, 0);
    return;
  }
  job_n_ = n;
  job_grain_ = grain;
  job_dynamic_ = dynamic;
  next_chunk_.store(0, std::memory_order_relaxed);
  job_ = &fn;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  job_id_.fetch_add(1, std::memory_order_seq_cst);  // publishes the job
  // A worker that went to sleep registered in sleepers_ before re-checking job_id_ under mu_:
  // either it sees the new id, or it is waiting and this notify reaches it.
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard lock(mu_); }
    start_cv_.notify_all();
  }
  run_share(0);
  // The other chunks take about as long as ours: poll, yielding now and then in case a worker
  // shares this core (more ranks than cores).
  for (int i = 0; pending_.load(std::memory_order_acquire) != 0; ++i) {
    if (i % 64 == 63) std::this_thread::yield();
    else cpu_relax();
  }
}

void ThreadPool::run_share(int index) {
  if (!job_dynamic_) {
    const auto [b, e] = chunk(job_n_, job_grain_, n_threads_, index);
    if (b < e) (*job_)(b, e, index);
    return;
  }
  for (;;) {
    const int64_t b = next_chunk_.fetch_add(1, std::memory_order_relaxed) * job_grain_;
    if (b >= job_n_) return;
    (*job_)(b, std::min(job_n_, b + job_grain_), index);
  }
}

bool ThreadPool::wait_for_job(uint64_t seen) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (stop_.load(std::memory_order_acquire)) return false;
    if (job_id_.load(std::memory_order_acquire) != seen) return true;
    if (i < 256) {  // the next op of a forward pass usually comes within a microsecond or two
      cpu_relax();
      continue;
    }
    // Then yield while polling: with more threads than cores (several ranks per node) the
    // core goes to whoever can use it, instead of to this loop.
    if (std::chrono::steady_clock::now() > until) break;
    std::this_thread::yield();
  }
  std::unique_lock lock(mu_);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  start_cv_.wait(lock, [&] {
    return stop_.load(std::memory_order_seq_cst) || job_id_.load(std::memory_order_seq_cst) != seen;
  });
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return !stop_.load();
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  while (wait_for_job(seen)) {
    seen = job_id_.load(std::memory_order_acquire);
    run_share(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace llmpipe
