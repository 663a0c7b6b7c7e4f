// The device memory a stage needs on a GPU backend (weights, KV cache, activations, scratch)
// against what the device has free: printed at start, and a clear error before loading when it
// does not fit (instead of an out-of-memory failure halfway through the weights).
#pragma once

#include <cstdint>
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
  uint64_t need() const { return weights + kv_cache + activations + workspace - reserved; }
  bool fits() const { return need() <= free; }
  std::string describe() const;  // one line
};

// nullopt when `backend` is not a GPU backend.
std::optional<DeviceMemoryPlan> plan_device_memory(Backend& backend, const TensorSource& source,
                                                   const LlamaHParams& h, const StageSpec& spec,
                                                   const KvCacheShape& kv, int64_t max_tokens,
                                                   int64_t max_logit_rows);

// Throws llmpipe::Error saying what does not fit and which knobs help.
void check_device_memory(const DeviceMemoryPlan& plan, const std::string& where);

}  // namespace llmpipe
