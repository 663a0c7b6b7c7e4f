// Progress of a long model write on stderr: "tensor i/N name, X MB written", at most about once
// a second (in place on a terminal, one line each otherwise), and a final summary line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace llmpipe {

class WriteProgress {
 public:
  WriteProgress(std::string label, size_t n_tensors, uint64_t total_bytes, bool enabled);
  void start_tensor(size_t index, const std::string& name);  // index counts from 0
  void add_bytes(uint64_t bytes);
  void done();  // prints the summary line (when enabled)

 private:
  void print(bool force);

  std::string label_;
  size_t n_tensors_, index_ = 0;
  uint64_t total_, written_ = 0;
  std::string name_;
  bool enabled_, tty_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace llmpipe
