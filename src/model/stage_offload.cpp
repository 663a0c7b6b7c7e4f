#include "model/stage_offload.h"

#include "core/error.h"

namespace llmpipe {

OffloadSplit split_for_offload(const StageSpec& spec, int64_t gpu_layers) {
  const int64_t n = spec.layers.size();
  if (gpu_layers < 0 || gpu_layers >= n) return {spec, std::nullopt};
  if (gpu_layers == 0) return {std::nullopt, spec};
  const int64_t cut = spec.layers.first + gpu_layers;
  return {StageSpec{{spec.layers.first, cut}, spec.is_first, false},
          StageSpec{{cut, spec.layers.last}, false, spec.is_last}};
}

std::unique_ptr<LlamaStage> make_offloaded_stage(const TensorSource& source, const LlamaHParams& h,
                                                 const StageSpec& spec, Backend& device,
                                                 Backend* host, int64_t gpu_layers,
                                                 KvCacheShape kv, int64_t max_tokens,
                                                 int64_t max_logit_rows) {
  const OffloadSplit split = split_for_offload(spec, gpu_layers);
  LLMPIPE_CHECK(host || !split.host, "offload without a host backend");
  auto build = [&](const StageSpec& part, Backend& backend) {
    KvCacheShape part_kv = kv;
    part_kv.n_layers = part.layers.size();
    return std::make_unique<LlamaStage>(h, part, load_stage_weights(source, h, part, backend),
                                        backend, part_kv, max_tokens, max_logit_rows);
  };
  if (!split.device) return build(*split.host, *host);
  auto stage = build(*split.device, device);
  if (split.host) stage->set_tail(build(*split.host, *host));
  return stage;
}

}  // namespace llmpipe
