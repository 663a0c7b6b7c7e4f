// Spans of a rank's work (compute, send, receive per batch) for a Chrome/Perfetto trace, so a
// user can see the pipeline's bubbles in ui.perfetto.dev. Each rank records against an origin
// taken right after a barrier, which lines the ranks' tracks up (to the barrier's skew).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmpipe {

class TraceRecorder {
 public:
  using Clock = std::chrono::steady_clock;

  explicit TraceRecorder(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  void set_origin(Clock::time_point t) { origin_ = t; }

  // Records [start, end) as a span named `name` of batch `batch` with `tokens` tokens.
  void add(const char* name, uint64_t batch, int64_t tokens, Clock::time_point start,
           Clock::time_point end);

  // This rank's spans as Chrome trace events (complete events, microseconds), plus the
  // metadata event naming its track.
  nlohmann::json events(int rank, const std::string& label) const;

 private:
  struct Span {
    const char* name;
    uint64_t batch;
    int64_t tokens;
    double start_us, dur_us;
  };
  bool enabled_;
  Clock::time_point origin_ = Clock::now();
  std::vector<Span> spans_;
};

// The trace file: every rank's events in one Chrome trace JSON object.
nlohmann::json chrome_trace(const std::vector<nlohmann::json>& rank_events);

}  // namespace llmpipe
