#include "bench/bench_report.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>

namespace llmpipe {

namespace {
double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}
double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}
std::string fmt(const char* f, double a, double b = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}
}  // namespace

std::string TestResult::name() const {
  return n_prompt > 0 ? "pp" + std::to_string(n_prompt) : "tg" + std::to_string(n_gen);
}

TestStats test_stats(const TestResult& r) {
  TestStats s;
  for (double ns : r.samples_ns) s.samples_ts.push_back(double(r.tokens()) * 1e9 / ns);
  s.avg_ns = mean(r.samples_ns);
  s.stddev_ns = stddev(r.samples_ns);
  s.avg_ts = mean(s.samples_ts);
  s.stddev_ts = stddev(s.samples_ts);
  return s;
}

double floor_fraction(const BenchContext& c, const TestResult& r) {
  if (r.n_gen == 0 || c.bandwidth_gbs <= 0) return 0;
  const double floor_s = double(c.model.decode_bytes) / (c.bandwidth_gbs * 1e9);
  return floor_s * test_stats(r).avg_ts;  // floor time per token / measured time per token
}

double cpu_utilization(const TestResult& r, int threads) {
  double wall = 0;
  for (double ns : r.samples_ns) wall += ns;
  return wall > 0 && threads > 0 ? r.cpu_ns / (wall * threads) : 0;
}

std::string human_size(uint64_t bytes) {
  if (bytes >= (uint64_t(1) << 30)) return fmt("%.2f GiB", double(bytes) / double(1 << 30));
  return fmt("%.2f MiB", double(bytes) / double(1 << 20));
}

std::string markdown_header() {
  return "| model | size | params | backend | threads | test | t/s | bw floor | cpu util |\n"
         "| ------------------------------ | ---------: | ---------: | ---------- | ------: | "
         "------------: | -------------------: | ---------------: | -------: |\n";
}

std::string markdown_row(const BenchContext& c, const TestResult& r) {
  const TestStats s = test_stats(r);
  const double params = double(c.model.n_params);
  const std::string params_s =
      params >= 1e9 ? fmt("%.2f B", params / 1e9) : fmt("%.2f M", params / 1e6);
  std::string floor = "-";
  if (r.n_gen > 0 && c.bandwidth_gbs > 0)
    floor = fmt("%.3f", floor_fraction(c, r)) +
            fmt(" (%.1f GB/s)", double(c.model.decode_bytes) * s.avg_ts / 1e9);
  const std::string util = r.cpu_ns > 0 ? fmt("%.2f", cpu_utilization(r, c.threads)) : "-";
  char buf[512];
  std::snprintf(buf, sizeof buf, "| %-30s | %10s | %10s | %-10s | %7d | %13s | %20s | %16s | %8s |\n",
                c.model.type.c_str(), human_size(c.model.size_bytes).c_str(), params_s.c_str(),
                c.backend.c_str(), c.threads, r.name().c_str(),
                fmt("%.2f ± %.2f", s.avg_ts, s.stddev_ts).c_str(), floor.c_str(), util.c_str());
  return buf;
}

nlohmann::ordered_json json_record(const BenchContext& c, const TestResult& r, uint64_t peak_rss_bytes) {
  const TestStats s = test_stats(r);
  std::vector<int64_t> samples_ns;
  for (double ns : r.samples_ns) samples_ns.push_back(int64_t(std::llround(ns)));
  return nlohmann::ordered_json{
      {"cpu_info", c.cpu_info},
      {"model_filename", c.model.filename},
      {"model_type", c.model.type},
      {"model_size", c.model.size_bytes},
      {"model_n_params", c.model.n_params},
      {"n_threads", c.threads},
      {"n_prompt", r.n_prompt},
      {"n_gen", r.n_gen},
      {"test_time", c.test_time},
      {"avg_ns", int64_t(std::llround(s.avg_ns))},
      {"stddev_ns", int64_t(std::llround(s.stddev_ns))},
      {"avg_ts", s.avg_ts},
      {"stddev_ts", s.stddev_ts},
      {"samples_ns", samples_ns},
      {"samples_ts", s.samples_ts},
      {"backend", c.backend},
      {"bandwidth_gbs", c.bandwidth_gbs},
      {"floor_fraction", floor_fraction(c, r)},
      {"decode_bytes_per_token", c.model.decode_bytes},
      {"peak_rss_bytes", peak_rss_bytes},
      {"cpu_utilization", cpu_utilization(r, c.threads)},
  };
}

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
    }
  return "";
}

std::string utc_timestamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace llmpipe
