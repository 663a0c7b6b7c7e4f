#include "pipeline/pipeline_run.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/cpu/cpu_backend.h"
#include "model/model_source.h"
#include "pipeline/partition.h"
#include "pipeline/rank_log.h"
#include "pipeline/run_io.h"
#include "pipeline/scheduler.h"
#include "pipeline/stage_runtime.h"
#include "pipeline/stop_signal.h"

namespace llmpipe {

using nlohmann::json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// What every rank knows after the checks that need no weights.
struct Plan {
  ModelSource model;
  std::vector<LayerRange> split;
  int64_t n_ctx = 0;
};

Plan make_plan(const RunConfig& c, int world_size) {
  validate_run_config(c, world_size);
  Plan p{open_model(c.model_path), {}, 0};
  const auto& h = p.model.hparams;
  p.split = c.layer_split.empty() ? balanced_split(h.n_layer, world_size)
                                  : split_from_counts(c.layer_split, h.n_layer, world_size);
  p.n_ctx = c.ctx_size > 0 ? std::min(c.ctx_size, h.n_ctx_train) : h.n_ctx_train;
  return p;
}

json stats_json(const Transport& t, const LayerRange& layers, const StageStats& s,
                const StageWeights& w) {
  return {{"rank", t.rank()},
          {"host", t.host()},
          {"layers", {layers.first, layers.last}},
          {"compute_s", s.compute_s},
          {"send_wait_s", s.send_wait_s},
          {"recv_wait_s", s.recv_wait_s},
          {"load_s", s.load_s},
          {"batches", s.batches},
          {"tokens", s.tokens},
          {"tensors", w.tensor_names.size()},
          {"weight_bytes", w.bytes},
          {"peak_rss_bytes", peak_resident_bytes()}};
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : " ") + e;
  return s;
}

// Returns the exit status: 0, or kStoppedExitCode on rank 0 when a signal stopped the run early.
int run_rank(Transport& t, const RunConfig& c, Plan& plan, RankLog& log) {
  const auto t_load = std::chrono::steady_clock::now();
  const auto& h = plan.model.hparams;
  const StageSpec spec = stage_spec(plan.split, t.rank());
  const int threads = c.threads > 0 ? c.threads : available_cpus();
  CpuBackend backend({.threads = threads});
  // Under Slurm, name the node too: several slurmd may share a host, and a node name is what
  // sacct and the job's logs use.
  const char* slurm_node = std::getenv("SLURMD_NODENAME");
  log.line(cat("rank ", t.rank(), " of ", t.size(), " on ", t.host(),
               slurm_node ? cat(" (slurm node ", slurm_node, ")") : std::string(), ", pid ",
               ::getpid(), ", ", backend.name()));
  log.line(cat("model ", plan.model.path, " (", plan.model.name, "), layers [", spec.layers.first,
               ", ", spec.layers.last, ") of ", h.n_layer, spec.is_first ? ", token embedding" : "",
               spec.is_last ? ", output norm and lm_head" : ""));

  StageWeights weights = load_stage_weights(*plan.model.tensors, h, spec, backend);
  const KvCacheShape kv{spec.layers.size(), c.batch_size, plan.n_ctx, h.kv_dim(), c.kv_type};
  log.line(cat("tensors held: ", weights.tensor_names.size(), " (", join(weights.tensor_names), ")"));
  log.line(cat("bytes mapped: ", weights.bytes, ", KV cache: ", kv.bytes(), " bytes (",
               c.batch_size, " slots x ", plan.n_ctx, " positions, ", dtype_name(c.kv_type), ")"));
  const int64_t max_tokens = c.prefill_chunk + c.batch_size;
  LlamaStage stage(h, spec, std::move(weights), backend, kv, max_tokens, c.batch_size);
  StageRuntime runtime(t, stage, c.batch_size);
  runtime.stats().load_s = seconds_since(t_load);
  log.line(cat("load time: ", runtime.stats().load_s, " s, resident memory: ", resident_bytes(),
               " bytes"));

  if (t.rank() != 0) {
    runtime.serve();
    log.line(cat("served ", runtime.stats().batches, " batches, ", runtime.stats().tokens,
                 " tokens; compute ", runtime.stats().compute_s, " s, receive wait ",
                 runtime.stats().recv_wait_s, " s, send wait ", runtime.stats().send_wait_s, " s"));
    t.send(0, Channel::Stats, [&] {
      const std::string s = stats_json(t, spec.layers, runtime.stats(), stage.weights()).dump();
      const auto* b = reinterpret_cast<const std::byte*>(s.data());
      return Bytes(b, b + s.size());
    }());
    t.flush();
    return 0;
  }

  // Rank 0: prompts in, completions out.
  const Tokenizer tokenizer(plan.model.load_vocab());
  PromptFile prompts = read_prompts(c.prompt_path);
  JsonlWriter completions(c.output_dir + "/completions.jsonl");
  JsonlWriter errors(c.output_dir + "/errors.jsonl");
  for (const auto& e : prompts.errors) {
    errors.write(e);
    log.line(cat("prompts line ", e["line"].get<int64_t>(), " skipped: ", e["error"].get<std::string>()));
  }
  log.line(cat(prompts.prompts.size(), " prompts, ", prompts.errors.size(), " malformed lines"));
  const auto t_run = std::chrono::steady_clock::now();
  Scheduler scheduler(
      runtime, tokenizer, c, plan.n_ctx,
      [&](const json& r) {
        completions.write(r);
        log.line(cat("prompt ", r["id"].dump(), ": ", r["prompt_tokens"].get<int64_t>(),
                     " prompt tokens, ", r["completion_tokens"].get<int64_t>(),
                     " completion tokens, latency ", r["latency_s"].get<double>(), " s, ttft ",
                     r["ttft_s"].get<double>(), " s, ", r["tokens_per_s"].get<double>(),
                     " tok/s, finish ", r["finish_reason"].get<std::string>()));
      },
      [&](const json& e) {
        errors.write(e);
        log.line(cat("prompt ", e["id"].dump(), " rejected: ", e["error"].get<std::string>()));
      });
  scheduler.run(std::move(prompts.prompts));
  const int stop_sig = stop_requested();
  if (stop_sig) {
    for (const auto& u : scheduler.unfinished()) {
      json e = u;
      e["error"] = cat("not finished: the run was stopped by ", stop_signal_name(stop_sig));
      errors.write(e);
    }
    log.line(cat("stopped by ", stop_signal_name(stop_sig), ": ", scheduler.unfinished().size(),
                 " prompts not finished (listed in errors.jsonl)"));
  }
  runtime.send_shutdown();
  const double wall = seconds_since(t_run);

  json stages = json::array({stats_json(t, spec.layers, runtime.stats(), stage.weights())});
  for (int r = 1; r < t.size(); ++r) {
    const Bytes b = t.recv(r, Channel::Stats);
    stages.push_back(json::parse(std::string(reinterpret_cast<const char*>(b.data()), b.size())));
  }
  json split = json::array();
  for (const auto& l : plan.split) split.push_back(l.size());
  const auto& tot = scheduler.totals();
  json cfg = c.to_json();
  cfg["n_ctx"] = plan.n_ctx;
  const json metrics = {{"wall_s", wall},
                        {"prompts", tot.prompts},
                        {"errors", tot.errors + int64_t(prompts.errors.size())},
                        {"stopped_by_signal", stop_sig ? json(stop_signal_name(stop_sig)) : json()},
                        {"unfinished", scheduler.unfinished().size()},
                        {"prompt_tokens", tot.prompt_tokens},
                        {"completion_tokens", tot.completion_tokens},
                        {"tokens_per_s", wall > 0 ? double(tot.completion_tokens) / wall : 0.0},
                        {"world_size", t.size()},
                        {"layer_split", split},
                        {"stages", stages},
                        {"config", cfg}};
  write_json_file(c.output_dir + "/metrics.json", metrics);
  log.line(cat("done: ", tot.prompts, " prompts, ", tot.completion_tokens, " tokens in ", wall,
               " s (", metrics["tokens_per_s"].get<double>(), " tok/s)"));
  std::fprintf(stderr,
               "llmpipe run: %lld prompts (%lld errors), %lld prompt + %lld completion tokens in "
               "%.2f s: %.1f tok/s on %d stage(s), split %s\nllmpipe run: outputs in %s\n",
               static_cast<long long>(tot.prompts), static_cast<long long>(metrics["errors"].get<int64_t>()),
               static_cast<long long>(tot.prompt_tokens), static_cast<long long>(tot.completion_tokens),
               wall, metrics["tokens_per_s"].get<double>(), t.size(), split.dump().c_str(),
               c.output_dir.c_str());
  if (stop_sig) {
    std::fprintf(stderr, "llmpipe run: stopped early by %s: %zu prompts not finished (errors.jsonl)\n",
                 stop_signal_name(stop_sig), scheduler.unfinished().size());
    return kStoppedExitCode;
  }
  return 0;
}

}  // namespace

int run_pipeline(Transport& t, RunConfig c) {
  // Phase 1: checks every rank makes identically; all ranks fail alike, rank 0 says why.
  Plan plan;
  try {
    plan = make_plan(c, t.size());
    std::error_code ec;
    std::filesystem::create_directories(c.output_dir, ec);
    if (ec) fail("cannot create output directory ", c.output_dir, ": ", ec.message());
  } catch (const Error& e) {
    if (t.rank() == 0) std::fprintf(stderr, "llmpipe run: error: %s\n", e.what());
    return 1;
  }
  // Phase 2: anything that fails now fails on one rank: end the whole job, loudly.
  try {
    RankLog log(c.output_dir, t.rank());
    install_stop_handlers(t.rank());
    return run_rank(t, c, plan, log);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llmpipe run: rank %d (%s): error: %s\n", t.rank(), t.host().c_str(),
                 e.what());
    std::fflush(stderr);
    t.abort(1);
  }
  return 0;
}

}  // namespace llmpipe
