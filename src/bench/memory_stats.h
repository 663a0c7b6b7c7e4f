// Process memory figures for benchmarks and tools, from /proc/self/status (Linux).
#pragma once

#include <cstdint>

namespace llmpipe {

uint64_t current_rss_bytes();  // VmRSS; 0 if unknown
uint64_t peak_rss_bytes();     // VmHWM (peak resident set); getrusage's ru_maxrss if unavailable
// Resets the peak to the current RSS (writes 5 to /proc/self/clear_refs); false if not possible.
bool reset_peak_rss();

}  // namespace llmpipe
