// `llmpipe quantize`: converts a GGUF model's weight matrices to another type.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

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

// --type: a single type in lower case (dtype names, checked first), else one of llama.cpp's
// presets (any case).
QuantizeOptions options_from(const QuantizeCliOptions& o) {
  QuantizeOptions q{.threads = o.threads, .progress = !o.quiet};
  if (const auto t = dtype_from_name(o.type)) {
    q.type = *t;
    if (!o.fallback.empty()) q.fallback = parse_dtype(o.fallback);
    return q;
  }
  q.preset = find_quant_preset(o.type);
  if (!q.preset)
    throw CLI::ValidationError("--type", "unknown type or preset '" + o.type + "'");
  if (!o.fallback.empty())
    throw CLI::ValidationError("--fallback", "applies to a single --type (e.g. q4_k); preset " +
                                                 std::string(q.preset->name) +
                                                 " has llama.cpp's fallbacks");
  q.type = q.preset->base;
  return q;
}

void run_quantize(const QuantizeCliOptions& o) {
  const QuantizeSummary s = quantize_model(o.input, o.output, options_from(o));
  if (!s.fallback_tensors.empty()) {
    std::fprintf(stderr, "%zu matrices stored as %s (rows not a whole number of %s blocks):",
                 s.fallback_tensors.size(), o.fallback.c_str(), o.type.c_str());
    for (size_t i = 0; i < s.fallback_tensors.size() && i < 8; ++i)
      std::fprintf(stderr, " %s", s.fallback_tensors[i].c_str());
    std::fprintf(stderr, "%s\n", s.fallback_tensors.size() > 8 ? " ..." : "");
  }
  int count[kDTypeCount] = {};
  for (DType t : s.types) ++count[int(t)];
  std::string mix;
  for (int i = 0; i < kDTypeCount; ++i)
    if (count[i]) mix += (mix.empty() ? "" : ", ") + std::to_string(count[i]) + " " +
                         std::string(dtype_name(static_cast<DType>(i)));
  std::fprintf(stderr, "tensor types: %s\n", mix.c_str());
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
  cmd->add_option("input", o->input, "Input .gguf model (tensors of any type it reads)")
      ->required();
  cmd->add_option("output", o->output, "Output .gguf file")->required();
  cmd->add_option("--type", o->type,
                  "llama.cpp preset, as llama-quantize names it (" + quant_preset_names() +
                      "; Q3_K, Q4_K, Q5_K: the _M ones): each tensor the type llama-quantize "
                      "gives it; or one type for every matrix, in lower case (" +
                      joined(dtype_names()) + ")")
      ->required()
      ->check([](const std::string& v) {
        return dtype_from_name(v) || find_quant_preset(v)
                   ? std::string()
                   : "unknown type or preset '" + v + "': use a preset (" + quant_preset_names() +
                         ") or a type (" + joined(dtype_names()) + ")";
      });
  add_dtype_option(cmd, "--fallback", o->fallback,
                   "With a single --type: the type for matrices whose rows are not a whole number "
                   "of its blocks (default: such a matrix is an error)");
  cmd->add_option("-t,--threads", o->threads, "Conversion threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("-q,--quiet", o->quiet, "No progress on stderr");
  cmd->callback([o] { run_quantize(*o); });
}

}  // namespace llmpipe::app
