#include "pipeline/pipeline_run.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/backend_factory.h"
#include "model/model_source.h"
#include "model/stage_offload.h"
#include "pipeline/device_memory_plan.h"
#include "pipeline/openai_batch.h"
#include "pipeline/partition.h"
#include "pipeline/rank_log.h"
#include "pipeline/resume.h"
#include "pipeline/run_io.h"
#include "pipeline/scheduler.h"
#include "pipeline/stage_runtime.h"
#include "pipeline/trace.h"
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

KvCacheShape kv_shape(const RunConfig& c, const Plan& p, const LayerRange& layers) {
  return {layers.size(), c.batch_size, p.n_ctx, p.model.hparams.kv_dim(), c.kv_type};
}

// The KV cache is allocated up front, a slot of n_ctx positions per sequence: check it fits
// before any weight is loaded, and say which knob to turn.
void check_kv_fits(const KvCacheShape& kv, uint64_t limit, const std::string& what, int rank) {
  if (kv.bytes() <= limit) return;
  auto mib = [](uint64_t b) { return cat(int64_t((b + (1 << 20) - 1) >> 20), " MiB"); };
  fail("stage ", rank, " needs ", mib(kv.bytes()), " of KV cache (", kv.n_layers, " layers x ",
       kv.n_slots, " sequences x ", kv.n_ctx, " positions x ", kv.kv_dim, " x 2 for K and V, ",
       dtype_name(kv.dtype), ") but ", what, " is ", mib(limit), ": lower batch_size or ctx_size",
       kv.dtype == DType::F32 ? ", use --kv-type f16" : "", ", or add stages");
}

Plan make_plan(const RunConfig& c, int world_size) {
  validate_run_config(c, world_size);
  Plan p{open_model(c.model_path, c.weight_dtype), {}, 0};
  const auto& h = p.model.hparams;
  p.split = c.layer_split.empty() ? balanced_split(h.n_layer, world_size)
                                  : split_from_counts(c.layer_split, h.n_layer, world_size);
  p.n_ctx = c.ctx_size > 0 ? std::min(c.ctx_size, h.n_ctx_train) : h.n_ctx_train;
  // Checked here, before anything loads, rather than at the first send.
  if (c.hop_type == DType::Q8_0 && h.n_embd % kQK != 0)
    fail("--hop-type q8_0 needs a hidden size that is a multiple of ", kQK, "; this model's is ",
         h.n_embd, ": use --hop-type f16");
  if (c.kv_memory > 0)
    for (size_t r = 0; r < p.split.size(); ++r)
      check_kv_fits(kv_shape(c, p, p.split[r]), c.kv_memory, cat("the budget (kv_memory)"), int(r));
  return p;
}

// What a rank holds: every tensor of its stage, on the GPU and (--gpu-layers) on the CPU.
struct HeldWeights {
  size_t tensors = 0;
  uint64_t bytes = 0;
  int64_t gpu_layers = -1;  // layers on the GPU; -1: not a GPU backend
};

json stats_json(const Transport& t, const LayerRange& layers, const StageStats& s,
                const HeldWeights& w) {
  return {{"rank", t.rank()},
          {"host", t.host()},
          {"layers", {layers.first, layers.last}},
          {"run_s", s.run_s},
          {"compute_s", s.compute_s},
          {"busy_fraction", s.run_s > 0 ? s.compute_s / s.run_s : 0.0},
          {"send_wait_s", s.send_wait_s},
          {"recv_wait_s", s.recv_wait_s},
          {"load_s", s.load_s},
          {"batches", s.batches},
          {"tokens", s.tokens},
          {"tensors", w.tensors},
          {"weight_bytes", w.bytes},
          {"gpu_layers", w.gpu_layers < 0 ? json() : json(w.gpu_layers)},
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
  const std::unique_ptr<Backend> backend_owner =
      make_backend({.kind = c.backend, .threads = threads, .weights = c.weights});
  Backend& backend = *backend_owner;
  // Under Slurm, name the node too: several slurmd may share a host, and a node name is what
  // sacct and the job's logs use.
  const char* slurm_node = std::getenv("SLURMD_NODENAME");
  log.line(cat("rank ", t.rank(), " of ", t.size(), " on ", t.host(),
               slurm_node ? cat(" (slurm node ", slurm_node, ")") : std::string(), ", pid ",
               ::getpid(), ", ", backend.name()));
  log.line(cat("model ", plan.model.path, " (", plan.model.name, "), layers [", spec.layers.first,
               ", ", spec.layers.last, ") of ", h.n_layer, spec.is_first ? ", token embedding" : "",
               spec.is_last ? ", output norm and lm_head" : ""));

  const KvCacheShape kv = kv_shape(c, plan, spec.layers);
  const int64_t max_tokens = c.prefill_chunk + c.batch_size;
  // --gpu-layers (default: all that fit): the stage's layers after the first N run on the CPU.
  const DevicePlacement placement =
      place_on_device(backend, *plan.model.tensors, h, spec, kv, max_tokens, c.batch_size,
                      c.gpu_layers, c.gpu_memory, cat("stage ", t.rank(), " on ", backend.name()));
  if (placement.plan) log.line(placement.plan->describe());
  if (!placement.note.empty()) log.line(placement.note);
  const std::unique_ptr<Backend> host_backend =
      placement.gpu_layers >= 0
          ? make_backend({.kind = "cpu", .threads = threads, .weights = c.weights})
          : nullptr;
  const OffloadSplit offload = split_for_offload(spec, placement.gpu_layers);
  const auto& device_plan = placement.plan;
  if (c.kv_memory == 0 && !device_plan)  // a GPU's KV cache is in the plan above
    if (const uint64_t avail = available_memory_bytes(); avail > 0)
      check_kv_fits(kv, avail, cat("the memory available on ", t.host()), t.rank());
  const std::unique_ptr<LlamaStage> stage_owner =
      make_offloaded_stage(*plan.model.tensors, h, spec, backend, host_backend.get(),
                           placement.gpu_layers, kv, max_tokens, c.batch_size);
  LlamaStage& stage = *stage_owner;
  std::vector<std::string> names = stage.weights().tensor_names;
  uint64_t bytes = stage.weights().bytes;
  if (const LlamaStage* tail = stage.tail()) {
    names.insert(names.end(), tail->weights().tensor_names.begin(), tail->weights().tensor_names.end());
    bytes += tail->weights().bytes;
    log.line(cat("offload: layers [", offload.device->layers.first, ", ",
                 offload.device->layers.last, ") on ", backend.name(), ", [",
                 offload.host->layers.first, ", ", offload.host->layers.last, ") on ",
                 host_backend->name()));
  }
  log.line(cat("tensors held: ", names.size(), " (", join(names), ")"));
  const int64_t gpu_layers = !device_memory(backend) ? -1
                             : offload.device       ? int64_t(offload.device->layers.size())
                                                    : 0;
  const HeldWeights held{names.size(), bytes, gpu_layers};
  if (const auto files = plan.model.tensors->files_opened(); !files.empty())
    log.line(cat("checkpoint files opened: ", files.size(), " (", join(files), ")"));
  log.line(cat("bytes mapped: ", bytes, ", KV cache: ", kv.bytes(), " bytes (",
               c.batch_size, " slots x ", plan.n_ctx, " positions, ", dtype_name(c.kv_type), ")"));
  StageLinks links = connect_stage_links(t, c.hop_transport, c.hop_type, stage.backend(),
                                         stage.output_backend());
  if (!links.describe.empty()) log.line(links.describe);
  TraceRecorder trace(!c.trace_path.empty());
  StageRuntime runtime(t, stage, c.batch_size, c.hop_type, trace, std::move(links));
  runtime.stats().load_s = seconds_since(t_load);
  log.line(cat("load time: ", runtime.stats().load_s, " s, resident memory: ", resident_bytes(),
               " bytes"));
  // Every rank starts the clock together: busy and idle times (and trace tracks) line up.
  t.barrier();
  const auto t_start = std::chrono::steady_clock::now();
  trace.set_origin(t_start);
  // From here on every rank is loaded and waits only on the others' steps: arm stall detection,
  // and log a heartbeat line (progress and when each peer was last heard) now and then.
  t.set_stall_deadline(c.hop_timeout_s);
  const double beat_s = c.hop_timeout_s > 0 ? std::min(30.0, c.hop_timeout_s / 2) : 30.0;
  runtime.set_batch_hook([&t, &log, beat_s, last = t_start](const StageStats& s) mutable {
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last).count() < beat_s) return;
    last = now;
    std::string heard;
    for (int r = 0; r < t.size(); ++r)
      if (const double ago = t.seconds_since_heard(r); ago >= 0)
        heard += cat(heard.empty() ? "" : ", ", "rank ", r, " ", int64_t(ago * 1000), " ms ago");
    log.line(cat("heartbeat: ", s.batches, " batches, ", s.tokens, " tokens so far",
                 heard.empty() ? "" : "; last heard: ", heard));
  });
  const std::string label = cat("rank ", t.rank(), " (", t.host(), ") layers ", spec.layers.first,
                                "-", spec.layers.last - 1);

  if (t.rank() != 0) {
    runtime.serve();
    runtime.stats().run_s = seconds_since(t_start);
    log.line(cat("served ", runtime.stats().batches, " batches, ", runtime.stats().tokens,
                 " tokens; compute ", runtime.stats().compute_s, " s, receive wait ",
                 runtime.stats().recv_wait_s, " s, send wait ", runtime.stats().send_wait_s, " s"));
    t.send(0, Channel::Stats, [&] {
      json stats = stats_json(t, spec.layers, runtime.stats(), held);
      if (trace.enabled()) stats["trace"] = trace.events(t.rank(), label);
      const std::string s = stats.dump();
      const auto* b = reinterpret_cast<const std::byte*>(s.data());
      return Bytes(b, b + s.size());
    }());
    t.flush();
    return 0;
  }

  // Rank 0: prompts in, completions out.
  const Tokenizer tokenizer(plan.model.load_vocab());
  PromptFile prompts = read_prompts(c.prompt_path);
  const std::string completions_path = c.output_dir + "/completions.jsonl";
  ResumeState resumed;
  // An OpenAI batch file's output lists every request; the custom_ids key it, as they key resume.
  std::optional<PromptFile> batch_requests;
  if (prompts.openai_batch) {
    check_unique_ids(prompts.prompts, "an OpenAI batch file");
    batch_requests = prompts;
  }
  if (c.resume) {
    check_unique_ids(prompts.prompts, "--resume");
    resumed = load_resume_state(completions_path);
    const size_t total = prompts.prompts.size();
    prompts.prompts = pending_prompts(std::move(prompts.prompts), resumed);
    log.line(cat("resume: ", resumed.completions, " completions kept, ", prompts.prompts.size(),
                 " of ", total, " prompts to run",
                 resumed.torn_bytes ? cat("; cut a torn last line (", resumed.torn_bytes,
                                          " bytes) from completions.jsonl")
                                    : std::string()));
    if (resumed.torn_bytes)
      std::fprintf(stderr, "llmpipe run: resume: cut a torn last line (%lld bytes) from %s\n",
                   static_cast<long long>(resumed.torn_bytes), completions_path.c_str());
  }
  // Resuming appends completions; errors are rewritten (every prompt not completed is retried).
  JsonlWriter completions(completions_path,
                          c.resume ? JsonlWriter::Mode::Append : JsonlWriter::Mode::Truncate);
  JsonlWriter errors(c.output_dir + "/errors.jsonl");
  for (const auto& e : prompts.errors) {
    errors.write(e);
    log.line(cat("prompts line ", e["line"].get<int64_t>(), " skipped: ", e["error"].get<std::string>()));
  }
  log.line(cat(prompts.prompts.size(), " prompts, ", prompts.errors.size(), " malformed lines"));
  const int64_t micro_batches = c.micro_batches_for(t.size());
  log.line(cat("scheduling: batch_size ", c.batch_size, " sequences in ", micro_batches,
               " micro-batch(es), prefill chunk ", c.prefill_chunk, " tokens"));
  Scheduler scheduler(
      runtime, tokenizer, c, plan.n_ctx, micro_batches,
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
      e["unfinished"] = true;
      errors.write(e);
    }
    log.line(cat("stopped by ", stop_signal_name(stop_sig), ": ", scheduler.unfinished().size(),
                 " prompts not finished (listed in errors.jsonl)"));
  }
  runtime.send_shutdown();
  if (batch_requests) {
    write_batch_output(c.output_dir, *batch_requests,
                       c.model_name.empty() ? plan.model.name : c.model_name);
    log.line(cat("OpenAI batch output written to ", c.output_dir, "/batch_output.jsonl"));
  }
  const double wall = seconds_since(t_start);
  runtime.stats().run_s = wall;

  json stages = json::array({stats_json(t, spec.layers, runtime.stats(), held)});
  std::vector<json> traces = {trace.events(t.rank(), label)};
  for (int r = 1; r < t.size(); ++r) {
    const Bytes b = t.recv(r, Channel::Stats);
    json s = json::parse(std::string(reinterpret_cast<const char*>(b.data()), b.size()));
    if (s.contains("trace")) {
      traces.push_back(std::move(s["trace"]));
      s.erase("trace");
    }
    stages.push_back(std::move(s));
  }
  if (trace.enabled()) {
    write_json_file(c.trace_path, chrome_trace(traces));
    log.line(cat("trace written to ", c.trace_path, " (open in ui.perfetto.dev)"));
  }
  json split = json::array();
  for (const auto& l : plan.split) split.push_back(l.size());
  const auto& tot = scheduler.totals();
  json cfg = c.to_json();
  cfg["n_ctx"] = plan.n_ctx;
  // Counts cover the whole job (earlier runs' kept completions too); times and rates this run.
  const json metrics = {{"wall_s", wall},
                        {"prompts", tot.prompts + resumed.completions},
                        {"errors", tot.errors + int64_t(prompts.errors.size())},
                        {"stopped_by_signal", stop_sig ? json(stop_signal_name(stop_sig)) : json()},
                        {"unfinished", scheduler.unfinished().size()},
                        {"prompt_tokens", tot.prompt_tokens + resumed.prompt_tokens},
                        {"completion_tokens", tot.completion_tokens + resumed.completion_tokens},
                        {"resumed", c.resume ? json{{"completions_kept", resumed.completions},
                                                    {"torn_bytes_cut", resumed.torn_bytes},
                                                    {"this_run_prompts", tot.prompts}}
                                             : json()},
                        // Completion tokens per second of the whole run (prefill included),
                        // and prompt + completion tokens per second.
                        {"tokens_per_s", wall > 0 ? double(tot.completion_tokens) / wall : 0.0},
                        {"total_tokens_per_s",
                         wall > 0 ? double(tot.prompt_tokens + tot.completion_tokens) / wall : 0.0},
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
