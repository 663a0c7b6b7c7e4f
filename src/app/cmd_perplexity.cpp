// `llmpipe perplexity`: llama-perplexity's measure of a model on a text file, in one process or
// as a pipeline of ranks under mpirun/srun (pipeline/perplexity_run.h: each rank a layer slice,
// the last stage scores, rank 0 prints). Running estimates per chunk and the final estimate on
// stdout (rank 0); counts and speed on stderr.
#include <memory>

#include "app/commands.h"
#include "app/dtype_option.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "model/converting_tensor_source.h"
#include "pipeline/partition.h"
#include "pipeline/perplexity_run.h"
#include "transport/mpi_transport.h"

namespace llmpipe::app {

namespace {

struct PerplexityOptions {
  PerplexityConfig config;
  std::string dtype = "keep";
  std::string layer_split;
};

}  // namespace

void register_perplexity(CLI::App& app) {
  auto opts = std::make_shared<PerplexityOptions>();
  PerplexityConfig* o = &opts->config;
  o->model_path = default_model_path();
  o->threads = available_cpus();
  auto* cmd = app.add_subcommand(
      "perplexity",
      "Perplexity of a model on a text file, as llama.cpp's llama-perplexity. In one process, or\n"
      "as a pipeline, one rank per stage (each a contiguous slice of the layers; rank 0 prints):\n"
      "  mpirun -n 2 llmpipe perplexity -m model.gguf -f text.txt\n"
      "The estimates are the single-process run's, digit for digit, for any number of ranks.");
  cmd->add_option("-m,--model", o->model_path, "GGUF model file, directory holding one, or Hugging Face model directory")
      ->capture_default_str();
  cmd->add_option("-f,--file", o->text_path, "Text file to score")->required();
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Tokens per chunk (the second half is scored); 0 = the model's context length, at most 512")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--chunks", o->chunks, "Most chunks to evaluate; 0 = all")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-b,--batch-tokens", o->batch, "Tokens per forward pass (a chunk is fed in pieces; under mpirun, up to one piece per stage in flight)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-t,--threads", o->threads, "Compute threads per rank (default: the CPUs this process may use)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_load_dtype_option(cmd, opts->dtype)->capture_default_str();
  cmd->add_option("--backend", o->backend, "Compute backend: cpu, cuda or auto")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->add_option("--gpu-layers", o->gpu_layers, "With --backend cuda: layers on the GPU, the rest on the CPU (default: all that fit)");
  cmd->add_option("--layer-split", opts->layer_split, "Under mpirun: layers per stage, e.g. 2,3 (default: balanced)");
  cmd->callback([opts] {
    PerplexityConfig c = opts->config;
    c.weight_dtype = weight_dtype_from_name(opts->dtype);
    if (!opts->layer_split.empty()) c.layer_split = parse_layer_counts(opts->layer_split);
    MpiTransport transport(nullptr, nullptr);  // a world of one without a launcher
    const int code = run_perplexity(transport, c, stdout).code;
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace llmpipe::app
