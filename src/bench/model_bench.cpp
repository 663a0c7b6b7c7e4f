#include "bench/model_bench.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "kernels/backend_factory.h"
#include "model/llama_arch.h"

namespace llmpipe {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

ModelFacts facts_of(const std::string& path, const TensorSource& src, const LlamaHParams& h) {
  ModelFacts f;
  f.filename = path;
  std::map<DType, uint64_t> matrix_bytes;  // by type, to name the model's main type
  const std::string embd = tensor_name(TensorRole::TokenEmbd);
  const bool tied = !src.find(tensor_name(TensorRole::Output));
  for (const auto& t : src.list()) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    f.n_params += n;
    f.size_bytes += t.bytes;
    if (t.shape.size() >= 2) matrix_bytes[t.dtype] += t.bytes;
    if (t.name != embd) {
      f.decode_bytes += t.bytes;
    } else {
      f.decode_bytes += tied ? t.bytes : t.bytes / uint64_t(std::max<int64_t>(h.n_vocab, 1));
    }
  }
  DType main = DType::F32;
  uint64_t most = 0;
  for (const auto& [type, bytes] : matrix_bytes)
    if (bytes > most) {
      most = bytes;
      main = type;
    }
  const std::string type_name = main == DType::F32 ? "all F32" : upper(dtype_name(main));
  f.type = "llama " + param_count_label(f.n_params) + " " + type_name;
  return f;
}

double process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

double ns_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::string param_count_label(int64_t n) {
  if (n >= 1'000'000'000) return std::to_string(int64_t(std::llround(double(n) / 1e9))) + "B";
  if (n >= 1'000'000) return std::to_string(int64_t(std::llround(double(n) / 1e6))) + "M";
  return std::to_string(int64_t(std::llround(double(n) / 1e3))) + "K";
}

ModelBench::ModelBench(const std::string& path, const BenchModelOptions& o)
    : model_(open_model(path)), options_(o), rng_(uint32_t(o.seed)) {
  if (o.n_ctx < 1 || o.batch < 1) fail("benchmark context and batch must be positive");
  const LlamaHParams& h = model_.hparams;
  facts_ = facts_of(path, *model_.tensors, h);
  backend_ = make_backend({.kind = o.backend, .threads = o.threads, .weights = o.weights});
  const StageSpec spec{{0, h.n_layer}, true, true};
  StageWeights weights = load_stage_weights(*model_.tensors, h, spec, *backend_);
  stage_ = std::make_unique<LlamaStage>(h, spec, std::move(weights), *backend_,
                                        KvCacheShape{h.n_layer, 1, o.n_ctx, h.kv_dim()},
                                        std::min(o.batch, o.n_ctx), 1);
  generator_ = std::make_unique<Generator>(*stage_);
}

void ModelBench::forward(std::span<const int32_t> tokens, int64_t first_pos) {
  generator_->step(tokens, first_pos);  // the logits reach the host, as for a caller
}

double ModelBench::prefill_once(int64_t n_tokens) {
  // Random tokens, never BOS/EOS (as llama-bench does).
  std::uniform_int_distribution<int32_t> dist(3, int32_t(model_.hparams.n_vocab) - 1);
  tokens_.resize(size_t(n_tokens));
  for (auto& t : tokens_) t = dist(rng_);
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t step = stage_->max_tokens();
  for (int64_t i = 0; i < n_tokens; i += step)
    forward(std::span(tokens_).subspan(size_t(i), size_t(std::min(step, n_tokens - i))), i);
  return ns_since(t0);
}

double ModelBench::decode_once(int64_t n_tokens) {
  std::uniform_int_distribution<int32_t> dist(3, int32_t(model_.hparams.n_vocab) - 1);
  int32_t token = dist(rng_);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n_tokens; ++i) {
    forward(std::span(&token, 1), i);
    token = dist(rng_);
  }
  return ns_since(t0);
}

std::vector<double> ModelBench::prefill(int64_t n_tokens, int reps, bool warmup) {
  if (n_tokens > options_.n_ctx)
    fail("prefill of ", n_tokens, " tokens exceeds the benchmark context of ", options_.n_ctx);
  if (warmup) prefill_once(n_tokens);
  std::vector<double> ns;
  const double cpu0 = process_cpu_ns();
  for (int r = 0; r < reps; ++r) ns.push_back(prefill_once(n_tokens));
  last_cpu_ns_ = process_cpu_ns() - cpu0;
  return ns;
}

std::vector<double> ModelBench::decode(int64_t n_tokens, int reps, bool warmup) {
  if (n_tokens > options_.n_ctx)
    fail("decode of ", n_tokens, " tokens exceeds the benchmark context of ", options_.n_ctx);
  if (warmup) decode_once(1);  // llama-bench warms decode up with one token
  std::vector<double> ns;
  const double cpu0 = process_cpu_ns();
  for (int r = 0; r < reps; ++r) ns.push_back(decode_once(n_tokens));
  last_cpu_ns_ = process_cpu_ns() - cpu0;
  return ns;
}

}  // namespace llmpipe
