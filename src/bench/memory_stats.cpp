#include "bench/memory_stats.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace llmpipe {

namespace {
// A "Key:   123 kB" line of /proc/self/status, in bytes; 0 if absent.
uint64_t status_kb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1)) * 1024;
  return 0;
}
}  // namespace

uint64_t current_rss_bytes() { return status_kb("VmRSS"); }

uint64_t peak_rss_bytes() {
  if (const uint64_t hwm = status_kb("VmHWM")) return hwm;
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return uint64_t(u.ru_maxrss) * 1024;
}

bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return bool(f);
}

}  // namespace llmpipe
