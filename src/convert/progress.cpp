#include "convert/progress.h"

#include <unistd.h>

#include <cstdio>

namespace llmpipe {

WriteProgress::WriteProgress(std::string label, size_t n_tensors, uint64_t total_bytes,
                             bool enabled)
    : label_(std::move(label)),
      n_tensors_(n_tensors),
      total_(total_bytes),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void WriteProgress::start_tensor(size_t index, const std::string& name) {
  index_ = index;
  name_ = name;
  print(false);
}

void WriteProgress::add_bytes(uint64_t bytes) {
  written_ += bytes;
  print(false);
}

void WriteProgress::print(bool force) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < std::chrono::seconds(1)) return;
  last_ = now;
  std::fprintf(stderr, "%s%s: tensor %zu/%zu %-28s %8.1f / %.1f MB%s", tty_ ? "\r" : "",
               label_.c_str(), index_ + 1, n_tensors_, name_.c_str(), double(written_) / 1e6,
               double(total_) / 1e6, tty_ ? "" : "\n");
  std::fflush(stderr);
}

void WriteProgress::done() {
  if (!enabled_) return;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "%s%s: %zu tensors, %.1f MB of tensor data in %.1f s\n", tty_ ? "\r\033[K" : "",
               label_.c_str(), n_tensors_, double(written_) / 1e6, s);
}

}  // namespace llmpipe
