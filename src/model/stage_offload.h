// Partial offload (--gpu-layers N): a stage's first N layers (with the token embedding, when
// the stage has it) run on the device backend, the remaining layers (with the final norm and
// lm_head) on a host backend, as two chained LlamaStages (LlamaStage::set_tail).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "formats/tensor_source.h"
#include "kernels/backend.h"
#include "model/llama_stage.h"

namespace llmpipe {

// How a stage's layers divide between the device and the host. gpu_layers < 0: all on the
// device; 0: all on the host; otherwise the first min(N, layers) on the device.
struct OffloadSplit {
  std::optional<StageSpec> device;  // layers on the device backend
  std::optional<StageSpec> host;    // layers on the host backend
};
OffloadSplit split_for_offload(const StageSpec& spec, int64_t gpu_layers);

// Loads the weights and builds the stage, split as above; `host` may be null when gpu_layers
// is negative. kv.n_layers is set per part; kv's other fields are shared.
std::unique_ptr<LlamaStage> make_offloaded_stage(const TensorSource& source, const LlamaHParams& h,
                                                 const StageSpec& spec, Backend& device,
                                                 Backend* host, int64_t gpu_layers,
                                                 KvCacheShape kv, int64_t max_tokens,
                                                 int64_t max_logit_rows);

}  // namespace llmpipe
