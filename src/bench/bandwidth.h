// Memory read bandwidth, measured in-process: `threads` threads sum disjoint parts of a large
// anonymous buffer (much larger than the caches); the best of several passes is reported. This
// is the floor against which decode speed is judged: a token must read every weight once.
#pragma once

#include <cstddef>

namespace llmpipe {

struct BandwidthResult {
  double gb_per_s = 0;  // 1e9 bytes per second
  size_t bytes = 0;     // buffer size
  int threads = 0;
  int passes = 0;
};

BandwidthResult measure_read_bandwidth(size_t bytes, int threads, int passes = 5);

}  // namespace llmpipe
