// `llmpipe quantize`: converts a GGUF model's weight matrices to another type.
#include <cstdio>
#include <memory>
#include <optional>

#include "app/commands.h"
#include "app/dtype_option.h"
#include "bench/memory_stats.h"
#include "convert/quantize_model.h"
#include "core/thread_pool.h"

namespace llmpipe::app {

namespace {

struct QuantizeCliOptions {
  std::string input, output, type, fallback;
  int threads = available_cpus();
  bool quiet = false;
};

void run_quantize(const QuantizeCliOptions& o) {
  const QuantizeSummary s = quantize_model(
      o.input, o.output,
      {.type = parse_dtype(o.type),
       .fallback = o.fallback.empty() ? std::nullopt : std::optional(parse_dtype(o.fallback)),
       .threads = o.threads,
       .progress = !o.quiet});
  if (!s.fallback_tensors.empty()) {
    std::fprintf(stderr, "%zu matrices stored as %s (rows not a whole number of %s blocks):",
                 s.fallback_tensors.size(), o.fallback.c_str(), o.type.c_str());
    for (size_t i = 0; i < s.fallback_tensors.size() && i < 8; ++i)
      std::fprintf(stderr, " %s", s.fallback_tensors[i].c_str());
    std::fprintf(stderr, "%s\n", s.fallback_tensors.size() > 8 ? " ..." : "");
  }
  std::fprintf(stderr,
               "wrote %s (%s): %zu tensors, %zu of them converted, %.1f MB -> %.1f MB of tensor data; "
               "peak RSS %.1f MiB\n",
               o.output.c_str(), o.type.c_str(), s.n_tensors, s.n_converted,
               double(s.in_bytes) / 1e6, double(s.out_bytes) / 1e6,
               double(peak_rss_bytes()) / double(1 << 20));
}

}  // namespace

void register_quantize(CLI::App& app) {
  auto o = std::make_shared<QuantizeCliOptions>();
  auto* cmd = app.add_subcommand(
      "quantize",
      "Convert a GGUF model's weight matrices (2-D tensors, embeddings included) to another type; "
      "norms are stored as f32, metadata is copied");
  cmd->add_option("input", o->input, "Input .gguf model (f32, f16, bf16, q8_0 or q4_0 tensors)")
      ->required();
  cmd->add_option("output", o->output, "Output .gguf file")->required();
  add_dtype_option(cmd, "--type", o->type, "Type of the weight matrices")->required();
  add_dtype_option(cmd, "--fallback", o->fallback,
                   "Type for matrices whose rows are not a whole number of --type's 32-element "
                   "blocks (default: such a matrix is an error)");
  cmd->add_option("-t,--threads", o->threads, "Conversion threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("-q,--quiet", o->quiet, "No progress on stderr");
  cmd->callback([o] { run_quantize(*o); });
}

}  // namespace llmpipe::app
