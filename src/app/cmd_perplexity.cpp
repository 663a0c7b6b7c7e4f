// `llmpipe perplexity`: llama-perplexity's measure of a model on a text file, in one process.
// Running estimates per chunk and the final estimate on stdout; counts and speed on stderr.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "app/commands.h"
#include "app/dtype_option.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/backend_factory.h"
#include "model/converting_tensor_source.h"
#include "model/model_source.h"
#include "model/stage_offload.h"
#include "pipeline/device_memory_plan.h"
#include "pipeline/run_config.h"
#include "runtime/generator.h"
#include "runtime/perplexity.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe::app {

namespace {

struct PerplexityOptions {
  std::string model = default_model_path();
  std::string file;
  int64_t ctx_size = 0;  // 0: the model's, at most 512
  int64_t chunks = 0;    // 0: all
  int64_t batch = 512;
  int threads = available_cpus();
  std::string backend = "cpu";
  int64_t gpu_layers = -1;
  std::string dtype = "keep";
};

// Ranks of the launch this process belongs to, from the launchers' environment (MPI is not
// initialized here): Open MPI, MPICH/Hydra, PMIx, Slurm's srun.
int launched_ranks() {
  for (const char* name :
       {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS"})
    if (const char* v = std::getenv(name); v && *v) return std::max(1, std::atoi(v));
  return 1;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot read the text file '", path, "'");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void run_perplexity(const PerplexityOptions& o) {
  if (launched_ranks() > 1)
    fail("perplexity runs in one process for now; run without mpirun (or srun)");
  const std::string text = read_text(o.file);
  const ModelSource model = open_model(o.model, weight_dtype_from_name(o.dtype));
  const Tokenizer tokenizer(model.load_vocab());
  const LlamaHParams& h = model.hparams;
  if (o.ctx_size > h.n_ctx_train)
    fail("-c ", o.ctx_size, " exceeds the model's context length of ", h.n_ctx_train, " tokens");
  const int64_t n_ctx = o.ctx_size > 0 ? o.ctx_size : std::min<int64_t>(h.n_ctx_train, 512);
  const bool add_bos = tokenizer.vocab().add_bos;
  const auto tokens = tokenizer.encode(text, add_bos);
  const PerplexityPlan plan = plan_perplexity(int64_t(tokens.size()), n_ctx, o.chunks);
  std::fprintf(stderr, "perplexity: %zu tokens, %lld chunks of %lld (scoring %lld tokens each)\n",
               tokens.size(), static_cast<long long>(plan.n_chunks),
               static_cast<long long>(n_ctx), static_cast<long long>(plan.scored_per_chunk()));

  check_gpu_layers(o.gpu_layers, o.backend);
  const std::unique_ptr<Backend> backend_owner =
      make_backend({.kind = o.backend, .threads = o.threads});
  Backend& backend = *backend_owner;
  const StageSpec spec{{0, h.n_layer}, true, true};
  const KvCacheShape kv{h.n_layer, 1, n_ctx, h.kv_dim()};
  const int64_t max_tokens = std::min(o.batch, n_ctx);
  // Every row of a forward pass needs logits: max_logit_rows = max_tokens.
  const DevicePlacement placement = place_on_device(backend, *model.tensors, h, spec, kv,
                                                    max_tokens, max_tokens, o.gpu_layers, 0,
                                                    "the model");
  if (placement.plan)
    std::fprintf(stderr, "%s: %s\n", backend.name().c_str(), placement.plan->describe().c_str());
  if (!placement.note.empty()) std::fprintf(stderr, "%s\n", placement.note.c_str());
  const std::unique_ptr<Backend> host_backend =
      placement.gpu_layers >= 0 ? make_backend({.kind = "cpu", .threads = o.threads}) : nullptr;
  const auto stage_owner =
      make_offloaded_stage(*model.tensors, h, spec, backend, host_backend.get(),
                           placement.gpu_layers, kv, max_tokens, max_tokens);
  Generator generator(*stage_owner);

  const auto t0 = std::chrono::steady_clock::now();
  NllAccumulator acc;
  for (int64_t c = 0; c < plan.n_chunks; ++c) {
    const auto chunk = chunk_tokens(tokens, plan, c,
                                    add_bos ? std::optional(tokenizer.bos_id()) : std::nullopt);
    // Positions from 0 again: the chunk overwrites the previous one's KV cache entries. Each
    // piece is scored as it returns (a chunk's logits at once would be n_ctx x n_vocab floats).
    for (int64_t i = 0; i < n_ctx; i += max_tokens) {
      const int64_t n = std::min(max_tokens, n_ctx - i);
      const auto part = generator.step_all(std::span(chunk).subspan(size_t(i), size_t(n)), i);
      acc.add_rows(part, h.n_vocab, chunk, i, plan.first);
    }
    std::printf("[%lld]%.4f,", static_cast<long long>(c + 1), acc.running_ppl());
    std::fflush(stdout);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const PerplexityEstimate e = acc.estimate();
  std::printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", e.ppl, e.error);
  std::fprintf(stderr, "perplexity: %lld tokens scored; %lld tokens evaluated in %.3f s (%.1f tok/s) | %s\n",
               static_cast<long long>(e.count), static_cast<long long>(plan.n_chunks * n_ctx), s,
               double(plan.n_chunks * n_ctx) / std::max(s, 1e-9), backend.name().c_str());
}

}  // namespace

void register_perplexity(CLI::App& app) {
  auto o = std::make_shared<PerplexityOptions>();
  auto* cmd = app.add_subcommand(
      "perplexity", "Perplexity of a model on a text file, as llama.cpp's llama-perplexity");
  cmd->add_option("-m,--model", o->model, "GGUF model file, directory holding one, or Hugging Face model directory")
      ->capture_default_str();
  cmd->add_option("-f,--file", o->file, "Text file to score")->required();
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Tokens per chunk (the second half is scored); 0 = the model's context length, at most 512")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--chunks", o->chunks, "Most chunks to evaluate; 0 = all")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-b,--batch-tokens", o->batch, "Tokens per forward pass (a chunk is fed in pieces)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-t,--threads", o->threads, "Compute threads (default: the CPUs this process may use)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_load_dtype_option(cmd, o->dtype)->capture_default_str();
  cmd->add_option("--backend", o->backend, "Compute backend: cpu, cuda or auto")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->add_option("--gpu-layers", o->gpu_layers, "With --backend cuda: layers on the GPU, the rest on the CPU (default: all that fit)");
  cmd->callback([o] { run_perplexity(*o); });
}

}  // namespace llmpipe::app
