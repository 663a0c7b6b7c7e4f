#include "pipeline/trace.h"

namespace llmpipe {

void TraceRecorder::add(const char* name, uint64_t batch, int64_t tokens, Clock::time_point start,
                        Clock::time_point end) {
  if (!enabled_) return;
  using us = std::chrono::duration<double, std::micro>;
  spans_.push_back({name, batch, tokens, us(start - origin_).count(), us(end - start).count()});
}

nlohmann::json TraceRecorder::events(int rank, const std::string& label) const {
  auto out = nlohmann::json::array();
  out.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", rank}, {"args", {{"name", label}}}});
  out.push_back({{"name", "process_sort_index"}, {"ph", "M"}, {"pid", rank}, {"args", {{"sort_index", rank}}}});
  for (const auto& s : spans_) {
    nlohmann::json e = {{"name", s.name}, {"cat", "pipeline"}, {"ph", "X"},   {"pid", rank},
                        {"tid", 0},       {"ts", s.start_us},  {"dur", s.dur_us}};
    if (s.batch) e["args"] = {{"batch", s.batch}, {"tokens", s.tokens}};
    out.push_back(std::move(e));
  }
  return out;
}

nlohmann::json chrome_trace(const std::vector<nlohmann::json>& rank_events) {
  auto all = nlohmann::json::array();
  for (const auto& events : rank_events)
    for (const auto& e : events) all.push_back(e);
  return {{"traceEvents", std::move(all)}, {"displayTimeUnit", "ms"}};
}

}  // namespace llmpipe
