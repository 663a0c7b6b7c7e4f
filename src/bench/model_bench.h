// llama-bench style measurements of one model on one backend (CPU or GPU), through the same LlamaStage
// (whole model in one stage) that `generate` uses, so faster kernels show up here unchanged.
//   pp<N>: prefill of N synthetic tokens from position 0, in batches of `batch` tokens;
//   tg<N>: N single-token decode steps from position 0.
// Each sample starts again at position 0 (the KV cache is simply overwritten).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "model/llama_stage.h"
#include "model/model_source.h"
#include "runtime/generator.h"

namespace llmpipe {

struct ModelFacts {
  std::string filename;       // as given
  std::string type;           // llama.cpp's style: "llama 3B Q4_0"
  uint64_t size_bytes = 0;    // bytes of all tensors
  int64_t n_params = 0;       // elements of all tensors
  uint64_t decode_bytes = 0;  // weight bytes read per decoded token (every matrix, one embedding row)
};

struct BenchModelOptions {
  int threads = 1;
  int64_t n_ctx = 512;   // KV positions: at least the longest test
  int64_t batch = 512;   // tokens per forward pass in prefill
  uint64_t seed = 1234;  // synthetic tokens
  WeightPlacement weights = WeightPlacement::Packed;  // CPU weight memory, see backend.h
  std::string backend = "cpu";  // "cpu", "cuda" or "auto" (kernels/backend_factory.h)
};

class ModelBench {
 public:
  ModelBench(const std::string& path, const BenchModelOptions& options);

  const ModelFacts& facts() const { return facts_; }
  const LlamaHParams& hparams() const { return model_.hparams; }
  std::string backend_name() const { return backend_->name(); }
  Backend& backend() { return *backend_; }

  // Nanoseconds of each of `reps` samples (after one unmeasured warm-up run if asked).
  std::vector<double> prefill(int64_t n_tokens, int reps, bool warmup);
  std::vector<double> decode(int64_t n_tokens, int reps, bool warmup);
  // Process CPU time (every thread) over the measured samples of the last prefill()/decode():
  // with the wall time it tells whether the threads had their cores (shared machines).
  double last_cpu_ns() const { return last_cpu_ns_; }

 private:
  void forward(std::span<const int32_t> tokens, int64_t first_pos);
  double prefill_once(int64_t n_tokens);
  double decode_once(int64_t n_tokens);

  ModelSource model_;
  ModelFacts facts_;
  BenchModelOptions options_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<LlamaStage> stage_;
  std::unique_ptr<Generator> generator_;  // runs the forward passes, as `generate` does
  std::mt19937 rng_;
  std::vector<int32_t> tokens_;
  double last_cpu_ns_ = 0;
};

// "3B", "7B", "20M", "292K": the size label llama.cpp puts in model_type.
std::string param_count_label(int64_t n_params);

}  // namespace llmpipe
