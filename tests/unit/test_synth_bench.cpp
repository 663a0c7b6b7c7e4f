// Benchmark pieces: statistics as llama-bench computes them, JSON keys, the bandwidth probe and
// a short run on the bundled model.
#include <gtest/gtest.h>

#include "bench/bandwidth.h"
#include "bench/bench_report.h"
#include "bench/memory_stats.h"
#include "bench/model_bench.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

TEST(BenchReport, StatsAndFloor) {
  TestResult r{0, 10, {1e9, 2e9}};  // 10 tokens in 1 s and in 2 s
  EXPECT_EQ(r.name(), "tg10");
  const TestStats s = test_stats(r);
  EXPECT_DOUBLE_EQ(s.avg_ns, 1.5e9);
  EXPECT_NEAR(s.stddev_ns, 0.70710678e9, 1e3);
  EXPECT_DOUBLE_EQ(s.avg_ts, 7.5);  // mean of 10 and 5 t/s
  EXPECT_NEAR(s.stddev_ts, 3.5355339, 1e-6);
  BenchContext c;
  c.model.decode_bytes = 1'000'000'000;  // 1 GB per token
  c.bandwidth_gbs = 10;                  // floor: 0.1 s per token
  EXPECT_NEAR(floor_fraction(c, r), 0.75, 1e-12);  // measured 1/7.5 s per token
  EXPECT_EQ(floor_fraction(c, TestResult{512, 0, {1e9}}), 0.0);
  EXPECT_EQ(TestResult({512, 0, {}}).name(), "pp512");
  EXPECT_EQ(param_count_label(3'426'000'000), "3B");
  EXPECT_EQ(param_count_label(6'738'000'000), "7B");
  EXPECT_EQ(param_count_label(19'600'000), "20M");
  EXPECT_EQ(param_count_label(292'000), "292K");
}

TEST(BenchReport, JsonHasLlamaBenchKeys) {
  BenchContext c;
  c.model.filename = "m.gguf";
  const auto j = json_record(c, TestResult{16, 0, {1e6}}, 1234);
  for (const char* key : {"model_filename", "model_type", "model_size", "model_n_params",
                          "n_threads", "n_prompt", "n_gen", "avg_ns", "stddev_ns", "avg_ts",
                          "stddev_ts", "samples_ns", "samples_ts", "backend", "bandwidth_gbs",
                          "floor_fraction", "peak_rss_bytes"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["peak_rss_bytes"], 1234);
  EXPECT_DOUBLE_EQ(j["avg_ts"].get<double>(), 16000.0);
}

TEST(BenchProbe, BandwidthAndRss) {
  const auto bw = measure_read_bandwidth(size_t(64) << 20, 2, 2);
  EXPECT_GT(bw.gb_per_s, 0.1);
  EXPECT_LT(bw.gb_per_s, 10000.0);
  EXPECT_GT(peak_rss_bytes(), 0u);
  EXPECT_GE(peak_rss_bytes(), current_rss_bytes());
  test::expect_error([] { measure_read_bandwidth(1000, 1); }, {"1000 bytes", "at least 1 MiB"});
  test::expect_error([] { measure_read_bandwidth((size_t(1) << 20) + 8, 1); }, {"multiples of 256"});
}

TEST(ModelBench, RunsOnTheBundledModel) {
  ModelBench b(test::model_path(), {.threads = 1, .n_ctx = 32, .batch = 16});
  EXPECT_GT(b.facts().n_params, 200000);
  EXPECT_EQ(b.facts().type, "llama " + param_count_label(b.facts().n_params) + " all F32");
  EXPECT_NE(b.facts().type.find("K all F32"), std::string::npos) << b.facts().type;
  EXPECT_GT(b.facts().decode_bytes, 0u);
  EXPECT_LE(b.facts().decode_bytes, b.facts().size_bytes);
  EXPECT_EQ(b.prefill(32, 2, true).size(), 2u);  // two batches of 16
  const auto tg = b.decode(8, 1, false);
  ASSERT_EQ(tg.size(), 1u);
  EXPECT_GT(tg[0], 0.0);
  test::expect_error([&] { b.prefill(33, 1, false); }, {"exceeds the benchmark context of 32"});
}

}  // namespace
}  // namespace llmpipe
