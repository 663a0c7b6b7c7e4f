// ThreadPool: every index covered exactly once, chunk edges on the grain, and hand-offs correct
// both while workers poll (back-to-back jobs) and after they have gone to sleep (idle gaps
// longer than ThreadPool::kSpin).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"

namespace llmpipe {
namespace {

// Runs one job over n items and checks coverage and chunk edges: static jobs split on multiples
// of `grain`; dynamic ones (parallel_for_dynamic) in chunks of exactly `grain` (the last may be
// short).
void check_job(ThreadPool& pool, int64_t n, int64_t grain, bool dynamic = false) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  std::atomic<int> bad_edges{0};
  auto fn = [&](int64_t b, int64_t e, int thread) {
    const bool whole = dynamic ? e - b == grain : e % grain == 0;
    if (b % grain != 0 || (!whole && e != n) || thread < 0 || thread >= pool.size())
      bad_edges.fetch_add(1);
    for (int64_t i = b; i < e; ++i) hits[size_t(i)].fetch_add(1);
  };
  if (dynamic) pool.parallel_for_dynamic(n, fn, grain);
  else pool.parallel_for(n, fn, grain);
  ASSERT_EQ(bad_edges.load(), 0) << "n=" << n << " grain=" << grain << " dynamic=" << dynamic;
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << "item " << i << " of " << n;
}

TEST(ThreadPool, CoversEveryItemOnceBackToBack) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int rep = 0; rep < 200; ++rep)  // workers still polling between these
      for (int64_t n : {1, 2, 7, 16, 33, 1000}) check_job(pool, n, rep % 2 ? 16 : 1);
  }
}

TEST(ThreadPool, DynamicChunksCoverEveryItemOnceBetweenStaticJobs) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int rep = 0; rep < 100; ++rep)
      for (int64_t n : {1, 7, 16, 33, 1000}) {
        check_job(pool, n, rep % 2 ? 16 : 1, /*dynamic=*/true);
        check_job(pool, n, 16);  // a static job right after a dynamic one, and the reverse
      }
  }
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for_dynamic(10, [](int64_t, int64_t, int) {}, 0), Error);
}

TEST(ThreadPool, DynamicChunksGoToTheThreadThatIsFree) {
  // The thread with the first chunk holds it until every other chunk is done: only threads
  // that take whatever chunk is next can finish them (a static split would leave that
  // thread's share undone). The wait gives up after 60 s so that a failure is not a hang.
  ThreadPool pool(3);
  constexpr int64_t kChunks = 40;
  std::atomic<int64_t> done{0};
  std::atomic<bool> first{true}, released{false};
  pool.parallel_for_dynamic(kChunks, [&](int64_t, int64_t, int) {
    if (first.exchange(false)) {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (done.load() < kChunks - 1 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::yield();
      released = done.load() == kChunks - 1;
    }
    done.fetch_add(1);
  }, 1);
  EXPECT_EQ(done.load(), kChunks);
  EXPECT_TRUE(released.load()) << "the other threads did not take the held thread's chunks";
}

TEST(ThreadPool, WakesSleepingWorkers) {
  ThreadPool pool(3);
  for (int rep = 0; rep < 5; ++rep) {
    check_job(pool, 100, 1);
    std::this_thread::sleep_for(ThreadPool::kSpin * 5);  // the workers block on the condition
  }
  check_job(pool, 100, 4);
}

TEST(ThreadPool, RejectsZeroThreads) {
  EXPECT_THROW(ThreadPool(0), Error);
}

// A dynamic job needs chunks of at least one item (0 would hand out the same empty chunk
// forever): an error before any thread runs, and the pool stays usable.
TEST(ThreadPool, RejectsEmptyDynamicChunks) {
  ThreadPool pool(2);
  int calls = 0;
  auto count = [&](int64_t, int64_t, int) { ++calls; };
  try {
    pool.parallel_for_dynamic(10, count, 0);
    FAIL() << "chunk 0 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("parallel_for_dynamic: chunk of 0 items"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(calls, 0);
  std::atomic<int64_t> items{0};
  pool.parallel_for_dynamic(10, [&](int64_t b, int64_t e, int) { items += e - b; }, 3);
  EXPECT_EQ(items.load(), 10);
}

}  // namespace
}  // namespace llmpipe
