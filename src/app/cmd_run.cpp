// `llmpipe run`: the pipeline job. One process per stage, launched by mpirun or srun (or alone
// for one stage); configured by the design report's exp_config.json / ds_config.json and flags.
#include <algorithm>
#include <cctype>
#include <cmath>
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

struct RunFlags {
  std::string exp_config, parallel_config;
  RunConfig overrides;  // only fields whose flag was given are applied
  std::string layer_split, kv_type, kv_memory, gpu_memory, hop_type, hop_transport, dtype, weights;
};

}  // namespace

void register_run(CLI::App& app, int* argc, char*** argv) {
  auto f = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run prompts through the model as a pipeline: one process (rank) per stage.\n"
      "  mpirun -n 2 llmpipe run --exp-config exp_config.json --parallel-config ds_config.json\n"
      "  srun --mpi=pmix -n 2 llmpipe run --exp-config exp_config.json\n"
      "Flags override the config files.");
  RunConfig& o = f->overrides;
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // last flag wins
  cmd->add_option("--exp-config", f->exp_config, "Experiment config (JSON): model, inputs, outputs, inference knobs")
      ->check(CLI::ExistingFile);
  cmd->add_option("--parallel-config,--ds-config", f->parallel_config,
                  "Parallel config (JSON, DeepSpeed style): pipeline_parallel_size, tensor_parallel_size")
      ->check(CLI::ExistingFile);
  cmd->add_option("-m,--model", o.model_path, "Model: GGUF file, directory holding one, or Hugging Face model directory (model.model_path)");
  add_load_dtype_option(cmd, f->dtype, " (model.dtype)");
  cmd->add_option("--model-name", o.model_name, "Descriptive model label (model.model_name)");
  cmd->add_option("--prompts", o.prompt_path,
                  "Prompts JSONL, one {\"prompt\": ...} or {\"messages\": [...]} per line, "
                  "optional \"stop\" (inputs.prompt_path)");
  cmd->add_option("-o,--output-dir", o.output_dir, "Where completions, logs and metrics go (outputs.output_dir)");
  cmd->add_option("-n,--max-new-tokens", o.max_new_tokens, "Most tokens generated per prompt")->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", o.temperature, "Sampling temperature; 0 is greedy")->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", o.top_p, "Nucleus sampling mass, in (0, 1]")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--top-k", o.top_k, "Sample among the k most likely tokens; 0 = all")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o.seed, "Random seed; each prompt gets its own stream");
  cmd->add_option("--batch-size", o.batch_size, "Sequences in flight (KV slots)")->check(CLI::PositiveNumber);
  cmd->add_option("--prefill-chunk", o.prefill_chunk, "Prompt tokens per sequence per forward pass")->check(CLI::PositiveNumber);
  cmd->add_option("--micro-batches", o.micro_batches, "Batches in flight around the pipeline (default: one per stage, at most batch-size)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-c,--ctx-size", o.ctx_size, "Context length per sequence; 0 = the model's")->check(CLI::NonNegativeNumber);
  cmd->add_option("--kv-type", f->kv_type, "KV cache type: f16 (default) or f32")->check(CLI::IsMember({"f16", "f32"}));
  cmd->add_option("--kv-memory", f->kv_memory, "KV cache budget per rank, e.g. 512M or 4G (default: the memory available); checked before loading");
  cmd->add_option("--hop-type", f->hop_type, "Activations between stages: f32 (default, exact), f16 or bf16 (half the bytes), q8_0 (8-bit blocks, ~0.27 of the bytes)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}));
  cmd->add_option("--hop-transport", f->hop_transport, "How activations travel between stages: auto (default: NCCL between distinct GPUs, else MPI through host memory), mpi, or nccl (fail at start where a hop cannot)")
      ->check(CLI::IsMember({"auto", "mpi", "nccl"}));
  cmd->add_flag("--resume", o.resume, "Continue an interrupted run in the same output directory: keep its completions (a torn last line is cut), run only the prompts without one, append (outputs.resume)");
  cmd->add_option("--hop-timeout", o.hop_timeout_s, "Seconds a rank waits for a message before it ends the job naming the silent rank (stall detection; default 120, or 10x the longest step if more; 0: wait forever)");
  cmd->add_option("--weights", f->weights, "CPU weight memory: packed (default: matmul weights repacked for the SIMD kernels), mmap (compute from the file mapping) or copy")
      ->check(CLI::IsMember({"packed", "mmap", "copy"}));
  cmd->add_option("--trace", o.trace_path, "Write a Chrome/Perfetto trace of every rank's compute, send and receive spans here");
  cmd->add_option("--pipeline-size", o.pipeline_parallel_size, "Expected number of stages (pipeline_parallel_size)");
  cmd->add_option("--layer-split", f->layer_split, "Layers per stage, e.g. 6,7,7,6 (default: balanced)");
  cmd->add_option("-t,--threads", o.threads, "Compute threads per rank (default: the CPUs the rank may use, e.g. Slurm's --cpus-per-task)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--backend", o.backend, "Compute backend: cpu (default), cuda (ranks on one node share its GPUs by local rank) or auto")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->add_option("--gpu-layers", o.gpu_layers, "With --backend cuda: the first N layers of each stage on the GPU, the rest on the CPU (default: all that fit, the rest on the CPU; an error when not one fits)");
  cmd->add_option("--gpu-memory", f->gpu_memory, "With --backend cuda: device memory each stage may use, e.g. 6G (default: what is free), e.g. for ranks sharing a GPU");

  cmd->callback([f, cmd, argc, argv] {
    RunConfig c;
    if (!f->exp_config.empty()) apply_exp_config(c, f->exp_config);
    if (!f->parallel_config.empty()) apply_parallel_config(c, f->parallel_config);
    const RunConfig& o = f->overrides;
    auto given = [&](const char* name) { return cmd->count(name) > 0; };
    if (given("--model")) c.model_path = o.model_path;
    if (given("--model-name")) c.model_name = o.model_name;
    if (!f->dtype.empty()) c.weight_dtype = weight_dtype_from_name(f->dtype);
    if (given("--prompts")) c.prompt_path = o.prompt_path;
    if (given("--output-dir")) c.output_dir = o.output_dir;
    if (given("--max-new-tokens")) c.max_new_tokens = o.max_new_tokens;
    if (given("--temperature")) c.temperature = o.temperature;
    if (given("--top-p")) c.top_p = o.top_p;
    if (given("--top-k")) c.top_k = o.top_k;
    if (given("--seed")) c.seed = o.seed;
    if (given("--batch-size")) c.batch_size = o.batch_size;
    if (given("--prefill-chunk")) c.prefill_chunk = o.prefill_chunk;
    if (given("--ctx-size")) c.ctx_size = o.ctx_size;
    if (given("--micro-batches")) c.micro_batches = o.micro_batches;
    if (given("--pipeline-size")) c.pipeline_parallel_size = o.pipeline_parallel_size;
    if (given("--threads")) c.threads = o.threads;
    if (given("--backend")) c.backend = o.backend;
    if (given("--gpu-layers")) c.gpu_layers = o.gpu_layers;
    if (!f->kv_type.empty()) c.kv_type = *dtype_from_name(f->kv_type);
    if (!f->kv_memory.empty()) c.kv_memory = parse_byte_size(f->kv_memory);
    if (!f->gpu_memory.empty()) c.gpu_memory = parse_byte_size(f->gpu_memory);
    if (!f->hop_type.empty()) c.hop_type = hop_type_from_name(f->hop_type);
    if (!f->hop_transport.empty()) c.hop_transport = hop_transport_from_name(f->hop_transport);
    if (!f->weights.empty()) c.weights = weight_placement_from_name(f->weights);
    if (given("--trace")) c.trace_path = o.trace_path;
    if (given("--hop-timeout")) c.hop_timeout_s = o.hop_timeout_s;
    if (given("--resume")) c.resume = o.resume;
    if (!f->layer_split.empty()) c.layer_split = parse_layer_counts(f->layer_split);
    if (c.model_path.empty()) c.model_path = default_model_path();

    MpiTransport transport(argc, argv);
    const int code = run_pipeline(transport, std::move(c));
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace llmpipe::app
