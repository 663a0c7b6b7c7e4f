// The configuration of a pipeline run: the design report's exp_config.json (model, inputs,
// outputs, inference knobs) and ds_config.json (pipeline/tensor parallel sizes), overridden by
// command-line flags. Validated before any weight is loaded.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "kernels/backend.h"
#include "runtime/sampler.h"
#include "transport/device_link.h"

namespace llmpipe {

struct RunConfig {
  // model
  std::string model_path;
  std::string model_name;
  std::optional<DType> weight_dtype;  // --dtype / model.dtype: convert weights at load; nullopt: keep
  // inputs / outputs
  std::string prompt_path;
  std::string output_dir = "outputs";
  bool resume = false;  // keep output_dir's completions, run only the prompts without one
  // inference
  int64_t max_new_tokens = 64;
  float temperature = 0.0f;
  float top_p = 1.0f;
  int top_k = 0;
  uint64_t seed = 0;
  int64_t batch_size = 1;     // sequences in flight
  int64_t prefill_chunk = 512;  // prompt tokens per forward pass and sequence
  int64_t ctx_size = 0;       // 0: the model's context length
  DType kv_type = DType::F16;
  int64_t micro_batches = 0;   // batches in flight around the ring; 0: one per stage
  uint64_t kv_memory = 0;      // KV cache budget per rank in bytes; 0: the memory available
  DType hop_type = DType::F32;  // activations between stages: F32, F16, BF16 or Q8_0
  // How they travel: NCCL between GPUs where possible (auto), always through host memory and
  // MPI (mpi), or NCCL on every hop, failing at start where a hop cannot (nccl).
  HopTransport hop_transport = HopTransport::Auto;
  std::string trace_path;      // Chrome/Perfetto trace of every rank's spans; empty: none
  // Stall detection: a rank that waits longer than this (or 10x its longest step, if more) for
  // a message ends the job, naming the silent rank(s); 0: wait forever.
  double hop_timeout_s = 120;
  // parallelism
  std::optional<int> pipeline_parallel_size;  // from ds_config; must equal the world size
  int tensor_parallel_size = 1;
  std::vector<int64_t> layer_split;  // empty: balanced
  int threads = 0;  // per rank; 0: the CPUs the rank may use
  std::string backend = "cpu";  // compute backend: cpu, cuda or auto (kernels/backend_factory.h)
  int64_t gpu_layers = -1;  // layers per stage on the GPU, the rest on the CPU; -1: all that fit
  uint64_t gpu_memory = 0;  // device memory a stage may use in bytes; 0: what is free
  WeightPlacement weights = WeightPlacement::Packed;  // CPU weight memory (kernels/backend.h)

  // The micro-batch count for a pipeline of `stages` ranks: by default one per stage (so every
  // stage has work), but never more than there are sequences.
  int64_t micro_batches_for(int stages) const {
    return micro_batches > 0 ? micro_batches : std::min<int64_t>(stages, batch_size);
  }

  nlohmann::json to_json() const;  // the effective configuration, for metrics.json
};

// Reads exp_config.json into `cfg`. Knobs are read at the top level or under "inference"
// (or "generation"); unknown keys are ignored, wrong types are errors naming the key.
void apply_exp_config(RunConfig& cfg, const std::string& path);

// Reads ds_config.json: pipeline_parallel_size and tensor_parallel_size, at the top level or
// under "distributed_training".
void apply_parallel_config(RunConfig& cfg, const std::string& path);

// "f32", "f16" or "bf16" (activations sent between stages); anything else is an error.
DType hop_type_from_name(const std::string& name);

// --gpu-layers N (first N layers of each stage on the GPU, the rest on the CPU) needs the CUDA
// backend; -1 (every layer on the stage's backend) always passes.
void check_gpu_layers(int64_t gpu_layers, const std::string& backend);

// Checks that need no model: world size vs pipeline size, tensor parallelism, sizes > 0,
// the backend name (and that this build has it).
void validate_run_config(const RunConfig& cfg, int world_size);

}  // namespace llmpipe
