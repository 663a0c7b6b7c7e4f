// Errors with context. Every failure that a user can cause (bad file, bad config, lost peer) is
// reported as llmpipe::Error with a message that says what was expected and what was found.
// Never use assert() for input validation: asserts vanish in release builds.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace llmpipe {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Concatenates any streamable values: cat("tensor ", name, " has ", n, " dims").
template <typename... Args>
std::string cat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

template <typename... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(cat(std::forward<Args>(args)...));
}

// Precondition check for programmer errors on hot paths; active in every build type.
#define LLMPIPE_CHECK(cond, ...)                                                         \
  do {                                                                                   \
    if (!(cond)) ::llmpipe::fail(__FILE__, ":", __LINE__, ": check failed: " #cond ": ", \
                                 ##__VA_ARGS__);                                         \
  } while (0)

}  // namespace llmpipe
