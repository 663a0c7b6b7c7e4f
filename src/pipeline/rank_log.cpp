#include "pipeline/rank_log.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>

#include "core/error.h"

namespace llmpipe {

RankLog::RankLog(const std::string& dir, int rank) : path_(cat(dir, "/rank_", rank, ".log")) {
  f_.reset(std::fopen(path_.c_str(), "w"));
  if (!f_) fail("cannot create ", path_, ": ", std::strerror(errno));
}

void RankLog::line(const std::string& text) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  std::fprintf(f_.get(), "%s.%03d %s\n", stamp, int(ms.count()), text.c_str());
  std::fflush(f_.get());
}

namespace {
uint64_t proc_kib(const char* file, const char* key) {
  std::ifstream f(file);
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key, 0) == 0) return std::stoull(line.substr(std::strlen(key))) * 1024;
  return 0;
}
}  // namespace

uint64_t resident_bytes() { return proc_kib("/proc/self/status", "VmRSS:"); }
uint64_t peak_resident_bytes() { return proc_kib("/proc/self/status", "VmHWM:"); }
uint64_t available_memory_bytes() { return proc_kib("/proc/meminfo", "MemAvailable:"); }

}  // namespace llmpipe
