// rank_<r>.log: what one rank did, line by line with a timestamp, flushed as written.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

namespace llmpipe {

class RankLog {
 public:
  RankLog(const std::string& dir, int rank);
  void line(const std::string& text);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<FILE, int (*)(FILE*)> f_{nullptr, &std::fclose};
};

// Resident memory of this process in bytes (VmRSS), 0 if unknown.
uint64_t resident_bytes();
// Peak resident memory (VmHWM), 0 if unknown.
uint64_t peak_resident_bytes();
// Memory the host can still give without swapping (MemAvailable), 0 if unknown.
uint64_t available_memory_bytes();

}  // namespace llmpipe
