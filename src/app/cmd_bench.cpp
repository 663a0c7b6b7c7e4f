// `llmpipe bench`: llama-bench style prompt-processing (pp) and text-generation (tg) speed of a
// model on the CPU or a GPU backend, with the memory-bandwidth floor for decoding (host memory
// or device memory) and peak RSS.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "bench/bandwidth.h"
#include "bench/bench_report.h"
#include "bench/memory_stats.h"
#include "bench/model_bench.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/backend_factory.h"

namespace llmpipe::app {

namespace {

struct BenchCliOptions {
  std::string model = default_model_path();
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  int threads = available_cpus();
  int reps = 5;
  int64_t batch = 512;
  int64_t bw_mib = 1024;
  bool json = false;
  bool warmup = true;
  std::string weights = "packed";
  std::string backend = "cpu";
};

// The floor's bandwidth: device memory for a GPU backend, host memory otherwise.
double measure_floor_bandwidth(Backend& backend, const BenchCliOptions& o) {
  const size_t bytes = size_t(o.bw_mib) << 20;
  if (const auto gbs = device_read_bandwidth_gbs(backend, bytes)) {
    std::fprintf(stderr, "device memory read bandwidth: %.1f GB/s (%lld MiB buffer, best of 5)\n",
                 *gbs, static_cast<long long>(o.bw_mib));
    return *gbs;
  }
  const auto bw = measure_read_bandwidth(bytes, o.threads);
  std::fprintf(stderr,
               "memory read bandwidth: %.2f GB/s (%d threads, %lld MiB buffer, best of %d)\n",
               bw.gb_per_s, bw.threads, static_cast<long long>(o.bw_mib), bw.passes);
  return bw.gb_per_s;
}

void run_bench(const BenchCliOptions& o) {
  if (o.n_prompt == 0 && o.n_gen == 0) fail("bench: nothing to measure (-p 0 and -n 0)");
  BenchContext ctx;
  ctx.threads = o.threads;
  ctx.backend = resolve_backend_kind(o.backend) == "cuda" ? "CUDA" : "CPU";  // llama-bench's names
  ctx.cpu_info = cpu_model_name();
  ctx.test_time = utc_timestamp();
  // Maps the weights (pages are read when first used) and allocates KV cache and scratch.
  ModelBench bench(o.model, {.threads = o.threads,
                             .n_ctx = std::max<int64_t>({o.n_prompt, o.n_gen, 1}),
                             .batch = o.batch,
                             .weights = weight_placement_from_name(o.weights),
                             .backend = o.backend});
  // The bandwidth of a shared machine drifts by tens of percent over minutes (other tenants):
  // it is measured just before and just after the tg test, and the floor uses the higher of the
  // two, so that a dip during one probe cannot flatter the fraction.
  uint64_t model_peak = 0;  // the model's peak RSS, sampled before each probe's buffer
  bool peak_reset = true;
  auto probe = [&] {
    model_peak = std::max(model_peak, peak_rss_bytes());
    const double gbs = measure_floor_bandwidth(bench.backend(), o);
    peak_reset = reset_peak_rss() && peak_reset;  // forget the probe's buffer
    return gbs;
  };
  auto peak = [&] { return std::max(model_peak, peak_rss_bytes()); };

  ctx.model = bench.facts();
  if (!o.json) std::cout << markdown_header() << std::flush;

  std::vector<TestResult> tests;
  if (o.n_prompt > 0) tests.push_back({o.n_prompt, 0, {}});
  if (o.n_gen > 0) tests.push_back({0, o.n_gen, {}});
  for (auto& t : tests) {
    const bool floor = t.n_gen > 0 && o.bw_mib > 0;
    const double before = floor ? probe() : 0;
    t.samples_ns = t.n_prompt > 0 ? bench.prefill(t.n_prompt, o.reps, o.warmup)
                                  : bench.decode(t.n_gen, o.reps, o.warmup);
    t.cpu_ns = bench.last_cpu_ns();
    if (floor) ctx.bandwidth_gbs = std::max(before, probe());
    if (o.json)
      std::cout << json_record(ctx, t, peak()).dump() << std::endl;
    else
      std::cout << markdown_row(ctx, t) << std::flush;
  }
  std::FILE* info = o.json ? stderr : stdout;
  std::fprintf(info, "\nbackend: %s; weights read per decoded token: %s; peak RSS: %s%s\n",
               bench.backend_name().c_str(), human_size(ctx.model.decode_bytes).c_str(),
               human_size(peak()).c_str(),
               peak_reset ? "" : " (includes the bandwidth buffer)");
  if (ctx.bandwidth_gbs > 0)
    std::fprintf(info,
                 "bw floor: fraction of the measured read bandwidth (%.2f GB/s, the higher of the "
                 "probes before and after the tg test) that decoding achieves reading every "
                 "weight once per token (1 = at the floor)\n",
                 ctx.bandwidth_gbs);
  std::fprintf(info,
               "cpu util: process CPU time / (wall time x threads); well below 1 means other "
               "processes shared the cores and the timings are pessimistic\n");
}

}  // namespace

void register_bench(CLI::App& app) {
  auto o = std::make_shared<BenchCliOptions>();
  auto* cmd = app.add_subcommand(
      "bench",
      "Measure prefill (pp) and decode (tg) speed like llama-bench: Markdown table or JSONL");
  cmd->add_option("-m,--model", o->model, "GGUF model file")->capture_default_str();
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens of the pp test; 0 skips it")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-n,--n-gen", o->n_gen, "Decoded tokens of the tg test; 0 skips it")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-t,--threads", o->threads, "Compute threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-r,--repetitions", o->reps, "Measured repetitions of each test")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-b,--batch", o->batch, "Prompt tokens per forward pass in the pp test")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--weights", o->weights,
                  "Weight memory: packed (matmul weights repacked for the SIMD kernels, in anonymous "
                  "memory), mmap (compute from the file mapping) or copy (anonymous, GGUF layout)")
      ->capture_default_str()
      ->check(CLI::IsMember({"packed", "mmap", "copy"}));
  cmd->add_option("--backend", o->backend, "Compute backend: cpu, cuda or auto")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->add_option("--bw-mib", o->bw_mib, "Buffer of the memory bandwidth test in MiB; 0 skips it")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", o->json, "One JSON object per test on stdout (llama-bench's JSONL keys)");
  cmd->add_flag("!--no-warmup", o->warmup, "Skip the unmeasured warm-up run of each test");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace llmpipe::app
