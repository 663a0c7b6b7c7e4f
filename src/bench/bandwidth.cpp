#include "bench/bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 headers trip -Wuninitialized on their own placeholders (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

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
#if defined(MADV_HUGEPAGE)
    madvise(p_, bytes, MADV_HUGEPAGE);  // as the packed weights are (fewer TLB misses); advisory
#endif
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

#if defined(__x86_64__) && defined(__GNUC__)
// The same with the widest loads the CPU has: one core reads memory measurably faster with
// 32- and 64-byte loads than with 8-byte ones (11 vs 14-16 GB/s on the 2-core VMs), and the
// kernels use the wide ones, so the floor must too. n: a multiple of 32 words.
__attribute__((target("avx2"))) uint64_t sum_words_avx2(const uint64_t* p, int64_t n) {
  __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
  for (int64_t i = 0; i + 16 <= n; i += 16) {
    a = _mm256_add_epi64(a, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    b = _mm256_add_epi64(b, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    c = _mm256_add_epi64(c, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    d = _mm256_add_epi64(d, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  alignas(32) uint64_t out[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d)));
  return out[0] + out[1] + out[2] + out[3];
}

__attribute__((target("avx512f"))) uint64_t sum_words_avx512(const uint64_t* p, int64_t n) {
  __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
  for (int64_t i = 0; i + 32 <= n; i += 32) {
    a = _mm512_add_epi64(a, _mm512_load_si512(p + i));
    b = _mm512_add_epi64(b, _mm512_load_si512(p + i + 8));
    c = _mm512_add_epi64(c, _mm512_load_si512(p + i + 16));
    d = _mm512_add_epi64(d, _mm512_load_si512(p + i + 24));
  }
  return uint64_t(_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a, b), _mm512_add_epi64(c, d))));
}
#endif

using SumFn = uint64_t (*)(const uint64_t*, int64_t);
SumFn widest_sum() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f")) return sum_words_avx512;
  if (__builtin_cpu_supports("avx2")) return sum_words_avx2;
#endif
  return sum_words;
}

}  // namespace

BandwidthResult measure_read_bandwidth(size_t bytes, int threads, int passes) {
  if (bytes < (size_t(1) << 20) || bytes % 256 != 0)
    fail("bandwidth buffer of ", bytes, " bytes: needs at least 1 MiB, in multiples of 256 bytes");
  if (threads < 1 || passes < 1) fail("bandwidth test needs at least one thread and one pass");
  AnonBuffer buf(bytes);
  const int64_t words = int64_t(bytes / sizeof(uint64_t));
  ThreadPool pool(threads);
  const SumFn sum = widest_sum();
  // Touch every page from the threads that will read it (first-touch placement).
  pool.parallel_for(words, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) buf.data()[i] = uint64_t(i);
  });
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  double best = 0;
  for (int pass = 0; pass <= passes; ++pass) {  // pass 0 warms up
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(words, [&](int64_t b, int64_t e, int t) {
      sums[size_t(t)] += sum(buf.data() + b, e - b);
    }, 32);  // chunks of whole 256-byte steps, 64-byte aligned
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (pass > 0) best = std::max(best, double(words * 8) / s / 1e9);
  }
  volatile uint64_t sink = 0;
  for (uint64_t s : sums) sink = sink + s;  // keep the sums alive
  return {best, bytes, threads, passes};
}

}  // namespace llmpipe
