// The device memory a stage needs on a GPU backend (weights, KV cache, activations, scratch)
// against what the device has free: printed at start, and a clear error before loading when it
// does not fit (instead of an out-of-memory failure halfway through the weights).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "formats/tensor_source.h"
#include "kernels/backend.h"
#include "model/llama_hparams.h"
#include "model/stage_weights.h"
#include "runtime/kv_cache.h"

namespace llmpipe {

struct DeviceMemoryPlan {
  uint64_t weights = 0;
  uint64_t kv_cache = 0;
  uint64_t activations = 0;  // the stage's scratch tensors
  uint64_t workspace = 0;    // the backend's scratch (reserved + expected growth)
  uint64_t reserved = 0;     // of workspace, already allocated by the backend
  uint64_t free = 0;         // free on the device before loading
  uint64_t total = 0;
  uint64_t limit = 0;  // --gpu-memory: what this stage may use in all; 0: no limit
  uint64_t use() const { return weights + kv_cache + activations + workspace; }
  uint64_t need() const { return use() - reserved; }  // still to allocate
  bool fits() const { return need() <= free && (limit == 0 || use() <= limit); }
  std::string describe() const;  // one line
};

// nullopt when `backend` is not a GPU backend.
std::optional<DeviceMemoryPlan> plan_device_memory(Backend& backend, const TensorSource& source,
                                                   const LlamaHParams& h, const StageSpec& spec,
                                                   const KvCacheShape& kv, int64_t max_tokens,
                                                   int64_t max_logit_rows);

// Throws llmpipe::Error saying what does not fit and which knobs help.
void check_device_memory(const DeviceMemoryPlan& plan, const std::string& where);

// The largest n in [1, n_layers) for which fits(n); 0 when there is none. fits must not turn
// true again once false (fewer layers never need more memory).
int64_t most_layers_that_fit(int64_t n_layers, const std::function<bool(int64_t)>& fits);

// Where a stage's layers go on a GPU backend (--gpu-layers, make_offloaded_stage).
struct DevicePlacement {
  int64_t gpu_layers = -1;               // -1: every layer on the device, else the first N
  std::optional<DeviceMemoryPlan> plan;  // of the device part; nullopt: CPU backend, or N = 0
  std::string note;                      // why fewer layers than all, for the rank log
};
// `requested` >= 0 (--gpu-layers N): those layers, checked to fit. -1 (the default): every
// layer when they fit, else the most that fit, the rest on the CPU, said in `note`; an Error
// (what does not fit and what helps) when not even one layer fits: a job that asked for a
// GPU does not silently run on the CPU. `limit`: --gpu-memory bytes, 0 for none.
DevicePlacement place_on_device(Backend& backend, const TensorSource& source, const LlamaHParams& h,
                                const StageSpec& spec, const KvCacheShape& kv, int64_t max_tokens,
                                int64_t max_logit_rows, int64_t requested, uint64_t limit,
                                const std::string& where);

}  // namespace llmpipe
