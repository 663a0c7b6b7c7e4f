// `llmpipe run`: the pipeline job. One process per stage, launched by mpirun or srun (or alone
// for one stage); configured by the design report's exp_config.json / ds_config.json and flags.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <memory>

#include "app/commands.h"
#include "app/dtype_option.h"
#include "core/error.h"
#include "kernels/backend_factory.h"
#include "model/converting_tensor_source.h"
#include "pipeline/partition.h"
#include "pipeline/pipeline_run.h"
#include "transport/mpi_transport.h"

namespace llmpipe::app {

namespace {

// "4G", "512M", "1024K" or plain bytes.
uint64_t parse_byte_size(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = text.substr(used);
  const double scale = unit.empty() || unit == "B" ? 1.0
                       : unit == "K" || unit == "KiB" ? 1024.0
                       : unit == "M" || unit == "MiB" ? 1024.0 * 1024
                       : unit == "G" || unit == "GiB" ? 1024.0 * 1024 * 1024
                                                      : -1.0;
  // stod also reads "inf", "nan", hex and exponents: the number must be plain decimal digits.
  const bool decimal =
      used > 0 && std::all_of(text.begin(), text.begin() + std::ptrdiff_t(used), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
      });
  if (!decimal || scale < 0 || !(value > 0) || !std::isfinite(value))
    fail("cannot read '", text, "' as a memory size: use e.g. 512M or 4G");
  const double bytes = value * scale;
  if (!(bytes < 18446744073709551616.0))  // 2^64
    fail("memory size '", text, "' does not fit in 64 bits: use e.g. 512M or 4G");
  return uint64_t(bytes);
}

// Each flag is declared once, with what it does to the RunConfig: the flags override the
// config files, so they are applied after those are read, and only the flags that were given.
class RunFlags {
 public:
  explicit RunFlags(CLI::App* cmd) : cmd_(cmd) {}

  // A flag whose value goes into `field` as it is.
  template <class T>
  CLI::Option* field(const std::string& names, T RunConfig::*field, const std::string& help) {
    auto value = std::make_shared<T>();
    CLI::Option* opt = cmd_->add_option(names, *value, help);
    appliers_.push_back([opt, value, field](RunConfig& c) {
      if (opt->count() > 0) c.*field = *value;
    });
    return opt;
  }
  // A flag whose text is parsed into the config by `set` (sizes, type names, lists).
  CLI::Option* parsed(const std::string& names, std::function<void(RunConfig&, const std::string&)> set,
                      const std::string& help) {
    auto text = std::make_shared<std::string>();
    CLI::Option* opt = cmd_->add_option(names, *text, help);
    appliers_.push_back([opt, text, set = std::move(set)](RunConfig& c) {
      if (opt->count() > 0) set(c, *text);
    });
    return opt;
  }
  CLI::Option* flag(const std::string& names, bool RunConfig::*field, const std::string& help) {
    CLI::Option* opt = cmd_->add_flag(names, help);
    appliers_.push_back([opt, field](RunConfig& c) {
      if (opt->count() > 0) c.*field = true;
    });
    return opt;
  }
  void apply(RunConfig& c) const {
    for (const auto& a : appliers_) a(c);
  }

 private:
  CLI::App* cmd_;
  std::vector<std::function<void(RunConfig&)>> appliers_;
};

}  // namespace

void register_run(CLI::App& app, int* argc, char*** argv) {
  auto* cmd = app.add_subcommand(
      "run",
      "Run prompts through the model as a pipeline: one process (rank) per stage.\n"
      "  mpirun -n 2 llmpipe run --exp-config exp_config.json --parallel-config ds_config.json\n"
      "  srun --mpi=pmix -n 2 llmpipe run --exp-config exp_config.json\n"
      "Flags override the config files.");
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // last flag wins
  auto config_files = std::make_shared<std::pair<std::string, std::string>>();
  cmd->add_option("--exp-config", config_files->first, "Experiment config (JSON): model, inputs, outputs, inference knobs")
      ->check(CLI::ExistingFile);
  cmd->add_option("--parallel-config,--ds-config", config_files->second,
                  "Parallel config (JSON, DeepSpeed style): pipeline_parallel_size, tensor_parallel_size")
      ->check(CLI::ExistingFile);
  auto f = std::make_shared<RunFlags>(cmd);
  using C = RunConfig;
  f->field("-m,--model", &C::model_path, "Model: GGUF file, directory holding one, or Hugging Face model directory (model.model_path)");
  f->parsed("--dtype", [](C& c, const std::string& v) { c.weight_dtype = weight_dtype_from_name(v); },
            load_dtype_help(" (model.dtype)"))
      ->check(CLI::IsMember(load_dtype_names()));
  f->field("--model-name", &C::model_name, "Descriptive model label (model.model_name)");
  f->field("--prompts", &C::prompt_path,
           "Prompts JSONL, one {\"prompt\": ...} or {\"messages\": [...]} per line, optional "
           "\"stop\"; or an OpenAI batch file (custom_id, url, body per line) (inputs.prompt_path)");
  f->field("-o,--output-dir", &C::output_dir, "Where completions, logs and metrics go (outputs.output_dir)");
  f->field("-n,--max-new-tokens", &C::max_new_tokens, "Most tokens generated per prompt")->check(CLI::PositiveNumber);
  f->field("--temperature", &C::temperature, "Sampling temperature; 0 is greedy")->check(CLI::NonNegativeNumber);
  f->field("--top-p", &C::top_p, "Nucleus sampling mass, in (0, 1]")->check(CLI::Range(0.0, 1.0));
  f->field("--top-k", &C::top_k, "Sample among the k most likely tokens; 0 = all")->check(CLI::NonNegativeNumber);
  f->field("--seed", &C::seed, "Random seed; each prompt gets its own stream");
  f->field("--batch-size", &C::batch_size, "Sequences in flight (KV slots)")->check(CLI::PositiveNumber);
  f->field("--prefill-chunk", &C::prefill_chunk, "Prompt tokens per sequence per forward pass")->check(CLI::PositiveNumber);
  f->field("--micro-batches", &C::micro_batches, "Batches in flight around the pipeline (default: one per stage, at most batch-size)")->check(CLI::NonNegativeNumber);
  f->field("-c,--ctx-size", &C::ctx_size, "Context length per sequence; 0 = the model's")->check(CLI::NonNegativeNumber);
  f->parsed("--kv-type", [](C& c, const std::string& v) { c.kv_type = *dtype_from_name(v); },
            "KV cache type: f16 (default) or f32")
      ->check(CLI::IsMember({"f16", "f32"}));
  f->parsed("--kv-memory", [](C& c, const std::string& v) { c.kv_memory = parse_byte_size(v); },
            "KV cache budget per rank, e.g. 512M or 4G (default: the memory available); checked before loading");
  f->parsed("--hop-type", [](C& c, const std::string& v) { c.hop_type = hop_type_from_name(v); },
            "Activations between stages: f32 (default, exact), f16 or bf16 (half the bytes), q8_0 (8-bit blocks, ~0.27 of the bytes)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}));
  f->parsed("--hop-transport", [](C& c, const std::string& v) { c.hop_transport = hop_transport_from_name(v); },
            "How activations travel between stages: auto (default: NCCL between distinct GPUs, else MPI through host memory), mpi, or nccl (fail at start where a hop cannot)")
      ->check(CLI::IsMember({"auto", "mpi", "nccl"}));
  f->flag("--resume", &C::resume, "Continue an interrupted run in the same output directory: keep its completions (a torn last line is cut), run only the prompts without one, append (outputs.resume)");
  f->field("--hop-timeout", &C::hop_timeout_s, "Seconds a rank waits for a message before it ends the job naming the silent rank (stall detection; default 120, or 10x the longest step if more; 0: wait forever)");
  f->parsed("--weights", [](C& c, const std::string& v) { c.weights = weight_placement_from_name(v); },
            "CPU weight memory: packed (default: matmul weights repacked for the SIMD kernels), mmap (compute from the file mapping) or copy")
      ->check(CLI::IsMember({"packed", "mmap", "copy"}));
  f->field("--trace", &C::trace_path, "Write a Chrome/Perfetto trace of every rank's compute, send and receive spans here");
  f->field("--pipeline-size", &C::pipeline_parallel_size, "Expected number of stages (pipeline_parallel_size)");
  f->parsed("--layer-split", [](C& c, const std::string& v) { c.layer_split = parse_layer_counts(v); },
            "Layers per stage, e.g. 6,7,7,6 (default: balanced)");
  f->field("-t,--threads", &C::threads, "Compute threads per rank (default: the CPUs the rank may use, e.g. Slurm's --cpus-per-task)")
      ->check(CLI::PositiveNumber);
  f->field("--backend", &C::backend, "Compute backend: cpu (default), cuda (ranks on one node share its GPUs by local rank) or auto")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  f->field("--gpu-layers", &C::gpu_layers, "With --backend cuda: the first N layers of each stage on the GPU, the rest on the CPU (default: all that fit, the rest on the CPU; an error when not one fits)");
  f->parsed("--gpu-memory", [](C& c, const std::string& v) { c.gpu_memory = parse_byte_size(v); },
            "With --backend cuda: device memory each stage may use, e.g. 6G (default: what is free), e.g. for ranks sharing a GPU");

  cmd->callback([f, config_files, argc, argv] {
    RunConfig c;
    if (!config_files->first.empty()) apply_exp_config(c, config_files->first);
    if (!config_files->second.empty()) apply_parallel_config(c, config_files->second);
    f->apply(c);
    if (c.model_path.empty()) c.model_path = default_model_path();

    MpiTransport transport(argc, argv);
    const int code = run_pipeline(transport, std::move(c));
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace llmpipe::app
