// Benchmark statistics and output in llama-bench's formats: a Markdown table (model, size,
// params, backend, threads, test, t/s as "mean ± sd") and JSONL with llama-bench's keys
// (model_filename, model_type, ..., samples_ts), plus our extras: backend, bandwidth_gbs,
// floor_fraction (decode only), peak_rss_bytes and cpu_utilization.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/model_bench.h"

namespace llmpipe {

struct TestResult {
  int64_t n_prompt = 0;  // pp test: tokens prefilled
  int64_t n_gen = 0;     // tg test: tokens decoded
  std::vector<double> samples_ns;
  double cpu_ns = 0;  // process CPU time over the samples; 0 if unknown
  std::string name() const;  // "pp512" or "tg128"
  int64_t tokens() const { return n_prompt + n_gen; }
};

struct TestStats {
  double avg_ns = 0, stddev_ns = 0, avg_ts = 0, stddev_ts = 0;
  std::vector<double> samples_ts;
};
TestStats test_stats(const TestResult& r);  // sample standard deviations (n - 1), as llama-bench

struct BenchContext {
  ModelFacts model;
  std::string backend = "CPU";
  int threads = 1;
  // Read bandwidth with `threads` threads, the higher of the probes before and after the tg
  // test (cmd_bench.cpp); 0 until then (a pp record printed first carries 0: no floor).
  double bandwidth_gbs = 0;
  std::string cpu_info;
  std::string test_time;     // ISO 8601 UTC
};

// Decode only: the time reading every weight once at the measured bandwidth would take, as a
// fraction of the measured time per token (1 = at the memory-bandwidth floor). 0 for prefill.
double floor_fraction(const BenchContext& c, const TestResult& r);

// CPU time / (wall time x threads) over the samples: about 1 when the threads ran undisturbed
// (and never waited), lower when other processes took the cores. 0 if unknown.
double cpu_utilization(const TestResult& r, int threads);

std::string markdown_header();
std::string markdown_row(const BenchContext& c, const TestResult& r);
nlohmann::ordered_json json_record(const BenchContext& c, const TestResult& r, uint64_t peak_rss_bytes);

std::string cpu_model_name();  // from /proc/cpuinfo; "" if unknown
std::string utc_timestamp();   // "2026-01-31T12:00:00Z"
std::string human_size(uint64_t bytes);  // "1.78 GiB"

}  // namespace llmpipe
