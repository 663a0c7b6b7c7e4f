#include "bench/bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"

namespace llmpipe {

namespace {

// Anonymous mapping, unmapped on scope exit (its pages count against RSS only while mapped).
class AnonBuffer {
 public:
  explicit AnonBuffer(size_t bytes) : bytes_(bytes) {
    p_ = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p_ == MAP_FAILED) fail("cannot map ", bytes, " bytes for the bandwidth test: ", std::strerror(errno));
  }
  ~AnonBuffer() { munmap(p_, bytes_); }
  AnonBuffer(const AnonBuffer&) = delete;
  AnonBuffer& operator=(const AnonBuffer&) = delete;
  uint64_t* data() const { return static_cast<uint64_t*>(p_); }

 private:
  void* p_;
  size_t bytes_;
};

// Sum with independent accumulators so the loop is limited by loads, not by an add chain.
uint64_t sum_words(const uint64_t* p, int64_t n) {
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    a0 += p[i];
    a1 += p[i + 1];
    a2 += p[i + 2];
    a3 += p[i + 3];
    a4 += p[i + 4];
    a5 += p[i + 5];
    a6 += p[i + 6];
    a7 += p[i + 7];
  }
  for (; i < n; ++i) a0 += p[i];
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

}  // namespace

BandwidthResult measure_read_bandwidth(size_t bytes, int threads, int passes) {
  if (bytes < (size_t(1) << 20)) fail("bandwidth buffer of ", bytes, " bytes is too small");
  if (threads < 1 || passes < 1) fail("bandwidth test needs at least one thread and one pass");
  AnonBuffer buf(bytes);
  const int64_t words = int64_t(bytes / sizeof(uint64_t));
  ThreadPool pool(threads);
  // Touch every page from the threads that will read it (first-touch placement).
  pool.parallel_for(words, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) buf.data()[i] = uint64_t(i);
  });
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  double best = 0;
  for (int pass = 0; pass <= passes; ++pass) {  // pass 0 warms up
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(words, [&](int64_t b, int64_t e, int t) {
      sums[size_t(t)] += sum_words(buf.data() + b, e - b);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (pass > 0) best = std::max(best, double(words * 8) / s / 1e9);
  }
  volatile uint64_t sink = 0;
  for (uint64_t s : sums) sink = sink + s;  // keep the sums alive
  return {best, bytes, threads, passes};
}

}  // namespace llmpipe
