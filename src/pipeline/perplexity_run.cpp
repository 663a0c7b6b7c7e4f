#include "pipeline/perplexity_run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/backend_factory.h"
#include "model/model_source.h"
#include "model/stage_offload.h"
#include "pipeline/device_memory_plan.h"
#include "pipeline/partition.h"
#include "pipeline/run_config.h"
#include "pipeline/stage_runtime.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe {

namespace {

// What every rank knows before loading any weight, computed alike on every rank (each reads the
// model and the text, as each must reach the model's file anyway), so that a bad input fails on
// every rank at once instead of leaving some waiting for a message.
struct Setup {
  ModelSource model;
  std::vector<LayerRange> split;
  std::vector<int32_t> tokens;
  PerplexityPlan plan;
  std::optional<int32_t> bos;  // replaces each chunk's first token when the vocabulary adds one
  int64_t max_tokens = 0;      // tokens per forward pass
};

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot read the text file '", path, "'");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

Setup make_setup(const PerplexityConfig& c, int world_size) {
  const std::string text = read_text(c.text_path);
  Setup s{open_model(c.model_path, c.weight_dtype), {}, {}, {}, {}, 0};
  const LlamaHParams& h = s.model.hparams;
  s.split = c.layer_split.empty() ? balanced_split(h.n_layer, world_size)
                                  : split_from_counts(c.layer_split, h.n_layer, world_size);
  check_gpu_layers(c.gpu_layers, c.backend);
  if (c.ctx_size > h.n_ctx_train)
    fail("-c ", c.ctx_size, " exceeds the model's context length of ", h.n_ctx_train, " tokens");
  const int64_t n_ctx = c.ctx_size > 0 ? c.ctx_size : std::min<int64_t>(h.n_ctx_train, 512);
  const Tokenizer tokenizer(s.model.load_vocab());
  const bool add_bos = tokenizer.vocab().add_bos;
  s.tokens = tokenizer.encode(text, add_bos);
  s.plan = plan_perplexity(int64_t(s.tokens.size()), n_ctx, c.chunks);
  if (add_bos) s.bos = tokenizer.bos_id();
  s.max_tokens = std::min(c.batch, n_ctx);
  return s;
}

// This rank's stage: its layers on the chosen backend (--gpu-layers: the rest on the CPU).
struct LoadedStage {
  std::unique_ptr<Backend> backend, host_backend;
  std::unique_ptr<LlamaStage> stage;
};

LoadedStage load_stage(const Transport& t, const PerplexityConfig& c, const Setup& s,
                       const StageSpec& spec) {
  const LlamaHParams& h = s.model.hparams;
  const int threads = c.threads > 0 ? c.threads : available_cpus();
  LoadedStage l;
  l.backend = make_backend({.kind = c.backend, .threads = threads});
  const KvCacheShape kv{spec.layers.size(), 1, s.plan.n_ctx, h.kv_dim()};
  const std::string where = t.size() == 1 ? std::string("the model")
                                          : cat("stage ", t.rank(), " on ", l.backend->name());
  // Every row of a forward pass may need logits: max_logit_rows = max_tokens.
  const DevicePlacement placement =
      place_on_device(*l.backend, *s.model.tensors, h, spec, kv, s.max_tokens, s.max_tokens,
                      c.gpu_layers, 0, where);
  if (placement.plan)
    std::fprintf(stderr, "%s: %s\n", where.c_str(), placement.plan->describe().c_str());
  if (!placement.note.empty()) std::fprintf(stderr, "%s\n", placement.note.c_str());
  if (placement.gpu_layers >= 0) l.host_backend = make_backend({.kind = "cpu", .threads = threads});
  l.stage = make_offloaded_stage(*s.model.tensors, h, spec, *l.backend, l.host_backend.get(),
                                 placement.gpu_layers, kv, s.max_tokens, s.max_tokens);
  return l;
}

// Piece `k` of the run: chunk k / pieces, rows [row0, row0 + n) of it, as a scoring batch.
BatchMessage scoring_batch(uint64_t k, std::span<const int32_t> chunk, const PerplexityPlan& plan,
                           int64_t row0, int64_t n) {
  BatchMessage m;
  m.batch_id = k;
  for (int64_t i = 0; i < n; ++i) m.positions.push_back(int32_t(row0 + i));
  m.slots.assign(size_t(n), 0);  // one sequence; a chunk overwrites the previous one's entries
  m.logit_rows = scored_rows(plan, row0, n);
  for (const int32_t r : m.logit_rows) m.targets.push_back(chunk[size_t(row0 + r + 1)]);
  return m;
}

// Rank 0: every chunk through the pipeline, the NLLs back, the estimates printed.
PerplexityResult drive(Transport& t, StageRuntime& runtime, const Setup& s, std::FILE* out) {
  const PerplexityPlan& plan = s.plan;
  const int64_t pieces = (plan.n_ctx + s.max_tokens - 1) / s.max_tokens;  // per chunk
  const uint64_t total = uint64_t(plan.n_chunks * pieces);
  const uint64_t window = uint64_t(t.size());  // pieces in flight: one per stage
  PerplexityResult result;
  NllAccumulator acc;
  std::vector<size_t> expected;  // NLLs due back per piece
  uint64_t received = 0;
  const auto take = [&](const TokensMessage& m) {
    if (m.batch_id != received || m.nll.size() != expected[received])
      fail("the last stage returned ", m.nll.size(), " scores for piece ", m.batch_id,
           "; expected ", expected[received], " for piece ", received);
    for (const double nll : m.nll) acc.add(nll);  // token order, as in one process
    if (++received % uint64_t(pieces) == 0) {
      result.running.push_back(acc.running_ppl());
      if (out) {
        std::fprintf(out, "[%llu]%.4f,", static_cast<unsigned long long>(received / pieces),
                     acc.running_ppl());
        std::fflush(out);
      }
    }
  };
  std::vector<int32_t> chunk;
  for (uint64_t k = 0; k < total; ++k) {
    const int64_t c = int64_t(k) / pieces, row0 = (int64_t(k) % pieces) * s.max_tokens;
    const int64_t n = std::min(s.max_tokens, plan.n_ctx - row0);
    if (row0 == 0) chunk = chunk_tokens(s.tokens, plan, c, s.bos);
    BatchMessage msg = scoring_batch(k, chunk, plan, row0, n);
    expected.push_back(msg.logit_rows.size());
    if (auto r = runtime.process(msg, std::span(chunk).subspan(size_t(row0), size_t(n))))
      take(*r);  // one stage: scored here
    while (k + 1 - received >= window && received < k + 1) take(runtime.receive_tokens());
  }
  while (received < total) take(runtime.receive_tokens());
  runtime.send_shutdown();
  result.estimate = acc.estimate();
  if (out) {
    std::fprintf(out, "\nFinal estimate: PPL = %.4f +/- %.5f\n", result.estimate.ppl,
                 result.estimate.error);
    std::fflush(out);
  }
  return result;
}

PerplexityResult run_rank(Transport& t, const PerplexityConfig& c, const Setup& s,
                          std::FILE* out) {
  const StageSpec spec = stage_spec(s.split, t.rank());
  if (t.size() > 1)
    std::fprintf(stderr, "perplexity: rank %d of %d on %s, pid %d: layers [%lld, %lld) of %lld\n",
                 t.rank(), t.size(), t.host().c_str(), int(::getpid()),
                 static_cast<long long>(spec.layers.first),
                 static_cast<long long>(spec.layers.last),
                 static_cast<long long>(s.model.hparams.n_layer));
  const LoadedStage loaded = load_stage(t, c, s, spec);
  LlamaStage& stage = *loaded.stage;
  // F32 hops: the activations arrive exactly as they left (what keeps the results the
  // single-process run's); NCCL between distinct GPUs where it applies, as in `run`.
  StageLinks links = connect_stage_links(t, HopTransport::Auto, DType::F32, stage.backend(),
                                         stage.output_backend());
  TraceRecorder trace(false);
  StageRuntime runtime(t, stage, 1, DType::F32, trace, std::move(links));
  t.barrier();  // every rank loaded: the clock starts together
  if (t.rank() != 0) {
    runtime.serve();
    t.flush();
    return {};
  }
  const PerplexityPlan& plan = s.plan;
  std::fprintf(stderr, "perplexity: %zu tokens, %lld chunks of %lld (scoring %lld tokens each)\n",
               s.tokens.size(), static_cast<long long>(plan.n_chunks),
               static_cast<long long>(plan.n_ctx), static_cast<long long>(plan.scored_per_chunk()));
  const auto t0 = std::chrono::steady_clock::now();
  PerplexityResult r = drive(t, runtime, s, out);
  t.flush();
  const double sec =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int64_t evaluated = plan.n_chunks * plan.n_ctx;
  std::fprintf(stderr,
               "perplexity: %lld tokens scored; %lld tokens evaluated in %.3f s (%.1f tok/s) | "
               "%s, %d stage(s)\n",
               static_cast<long long>(r.estimate.count), static_cast<long long>(evaluated), sec,
               double(evaluated) / std::max(sec, 1e-9), stage.backend().name().c_str(), t.size());
  return r;
}

}  // namespace

PerplexityResult run_perplexity(Transport& t, const PerplexityConfig& c, std::FILE* out) {
  // Phase 1: checks every rank makes identically; all ranks fail alike, rank 0 says why.
  std::optional<Setup> setup;
  try {
    setup.emplace(make_setup(c, t.size()));
  } catch (const Error& e) {
    if (t.rank() == 0) std::fprintf(stderr, "llmpipe perplexity: error: %s\n", e.what());
    PerplexityResult failed;
    failed.code = 1;
    return failed;
  }
  // Phase 2: anything that fails now fails on one rank: end the whole job, loudly.
  try {
    return run_rank(t, c, *setup, out);
  } catch (const std::exception& e) {
    if (t.size() == 1) throw;  // no other rank waits: the ordinary error path
    std::fprintf(stderr, "llmpipe perplexity: rank %d (%s): error: %s\n", t.rank(),
                 t.host().c_str(), e.what());
    std::fflush(stderr);
    t.abort(1);
  }
  return {};
}

}  // namespace llmpipe
