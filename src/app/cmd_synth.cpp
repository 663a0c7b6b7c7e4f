// `llmpipe synth`: writes a GGUF model of a named shape with seeded random weights.
#include <cstdio>
#include <memory>

#include "app/commands.h"
#include "app/dtype_option.h"
#include "bench/memory_stats.h"
#include "convert/synth_model.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace llmpipe::app {

namespace {

struct SynthCliOptions {
  std::string shape;
  std::string type = "f32";
  uint64_t seed = 0;
  std::string output;
  int threads = available_cpus();
  int64_t ctx = 0;  // 0: the shape's context length
  bool list = false;
  bool quiet = false;
};

void run_synth(const SynthCliOptions& o) {
  if (o.list) {
    for (const auto& s : model_shapes())
      std::printf("%-14s %.*s\n", std::string(s.name).c_str(), int(s.description.size()),
                  s.description.data());
    return;
  }
  if (o.shape.empty()) fail("synth: --shape is required (valid shapes: ", model_shape_names(), ")");
  if (o.output.empty()) fail("synth: -o/--output is required");
  ModelShape shape = find_model_shape(o.shape);
  // LLaMA 3.1's 131072 positions make a KV cache of gigabytes; a capped file keeps runs small.
  if (o.ctx > 0) shape.hparams.n_ctx_train = o.ctx;
  const SynthSummary s = synthesize_model(
      shape, {.type = parse_dtype(o.type), .seed = o.seed, .threads = o.threads, .progress = !o.quiet},
      o.output);
  std::fprintf(stderr, "wrote %s: shape %s, %s, seed %llu, %zu tensors, %.3f M parameters, %.1f MB; peak RSS %.1f MiB\n",
               o.output.c_str(), o.shape.c_str(), o.type.c_str(),
               static_cast<unsigned long long>(o.seed), s.n_tensors, double(s.n_params) / 1e6,
               double(s.file_bytes) / 1e6, double(peak_rss_bytes()) / double(1 << 20));
}

}  // namespace

void register_synth(CLI::App& app) {
  auto o = std::make_shared<SynthCliOptions>();
  auto* cmd = app.add_subcommand(
      "synth", "Write a GGUF model of a named shape with seeded random weights (for benchmarks)");
  cmd->add_option("--shape", o->shape, "Model shape: " + model_shape_names());
  add_dtype_option(cmd, "--type", o->type, "Type of the weight matrices; norms stay f32")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed: the same seed gives the same file")
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Output .gguf file");
  cmd->add_option("-t,--threads", o->threads, "Threads generating and quantizing weights")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--ctx", o->ctx, "Context length written to the file (default: the shape's)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--list", o->list, "List the known shapes and exit");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress on stderr");
  cmd->callback([o] { run_synth(*o); });
}

}  // namespace llmpipe::app
