#include "pipeline/device_memory_plan.h"

#include "core/error.h"
#include "kernels/backend_factory.h"
#include "model/llama_arch.h"
#include "model/stage_offload.h"

namespace llmpipe {

namespace {

std::string mib(uint64_t b) {
  return cat((b + (1 << 20) - 1) >> 20, " MiB");
}

// Bytes a tensor takes once placed: norm weights are converted to F32 on load.
uint64_t placed_bytes(const TensorSource& source, TensorRole role, int64_t layer,
                      const std::string& name = "") {
  const auto desc = source.find(name.empty() ? tensor_name(role, layer) : name);
  if (!desc) return 0;  // the loader reports missing tensors with their names
  if (role_requires_f32(role) && !desc->shape.empty()) return uint64_t(desc->shape[0]) * 4;
  return desc->bytes;
}

}  // namespace

std::string DeviceMemoryPlan::describe() const {
  return cat("device memory plan: weights ", mib(weights), " + KV cache ", mib(kv_cache),
             " + activations ", mib(activations), " + workspace ", mib(workspace), " = ",
             mib(use()), "; free ", mib(free + reserved), " of ", mib(total),
             limit ? cat(", --gpu-memory ", mib(limit)) : std::string(),
             fits() ? "" : ": DOES NOT FIT");
}

std::optional<DeviceMemoryPlan> plan_device_memory(Backend& backend, const TensorSource& source,
                                                   const LlamaHParams& h, const StageSpec& spec,
                                                   const KvCacheShape& kv, int64_t max_tokens,
                                                   int64_t max_logit_rows) {
  const auto mem = device_memory(backend);
  if (!mem) return std::nullopt;
  DeviceMemoryPlan p;
  if (spec.is_first) p.weights += placed_bytes(source, TensorRole::TokenEmbd, -1);
  for (int64_t l = spec.layers.first; l < spec.layers.last; ++l)
    for (const TensorRole role : kLayerRoles)
      if (role_in_model(role, h)) p.weights += placed_bytes(source, role, l);
  if (spec.is_last) {
    p.weights += placed_bytes(source, TensorRole::OutputNorm, -1);
    if (source.find(tensor_name(TensorRole::Output)))
      p.weights += placed_bytes(source, TensorRole::Output, -1);
    else if (!spec.is_first)  // tied lm_head on a stage without the embedding: a second copy
      p.weights += placed_bytes(source, TensorRole::TokenEmbd, -1);
  }
  p.kv_cache = kv.bytes();
  const uint64_t per_token = uint64_t(4 * h.n_embd + 2 * h.kv_dim() + 2 * h.n_ff) * 4;
  p.activations = uint64_t(max_tokens) * per_token;
  if (spec.is_last) p.activations += uint64_t(max_logit_rows * (h.n_embd + h.n_vocab)) * 4;
  // Scratch that grows with the batch: activations converted to 16 bits for cuBLAS, attention
  // partial sums (a few key splits per (token, head) when decoding), ids and positions.
  const uint64_t convert = uint64_t(max_tokens * std::max(h.n_embd, h.n_ff)) * 2;
  const uint64_t items = uint64_t(std::max<int64_t>(max_tokens * h.n_head, 1024));
  const uint64_t partials = items * uint64_t(h.head_dim() + 2) * 4 * 4;
  p.reserved = mem->workspace_bytes;
  p.workspace = mem->workspace_bytes + convert + partials + (1u << 20);
  p.free = mem->free_bytes;
  p.total = mem->total_bytes;
  return p;
}

void check_device_memory(const DeviceMemoryPlan& p, const std::string& where) {
  if (p.fits()) return;
  const std::string what =
      p.need() > p.free
          ? cat(" needs ", mib(p.need()), " more device memory but ", mib(p.free), " is free")
          : cat(" needs ", mib(p.use()), " of device memory but --gpu-memory allows ",
                mib(p.limit));
  fail(where, what, " (", p.describe(),
       "): use more stages (ranks), --gpu-layers to keep some "
       "layers on the CPU, a smaller ctx_size or batch_size, --kv-type f16, or a more "
       "quantized model");
}

int64_t most_layers_that_fit(int64_t n_layers, const std::function<bool(int64_t)>& fits) {
  for (int64_t n = n_layers - 1; n >= 1; --n)
    if (fits(n)) return n;
  return 0;
}

DevicePlacement place_on_device(Backend& backend, const TensorSource& source, const LlamaHParams& h,
                                const StageSpec& spec, const KvCacheShape& kv, int64_t max_tokens,
                                int64_t max_logit_rows, int64_t requested, uint64_t limit,
                                const std::string& where) {
  // The plan with the first n layers on the device (n < 0: all); nullopt: not a GPU backend.
  auto plan_for = [&](int64_t n) -> std::optional<DeviceMemoryPlan> {
    const auto device = split_for_offload(spec, n).device;
    if (!device) return std::nullopt;
    KvCacheShape device_kv = kv;
    device_kv.n_layers = device->layers.size();
    auto p = plan_device_memory(backend, source, h, *device, device_kv, max_tokens, max_logit_rows);
    if (p) p->limit = limit;
    return p;
  };
  DevicePlacement placed{requested, plan_for(requested), ""};
  if (!placed.plan || placed.plan->fits() || requested >= 0) {
    if (placed.plan) check_device_memory(*placed.plan, where);
    return placed;
  }
  const int64_t n_layers = spec.layers.size();
  const int64_t n = most_layers_that_fit(n_layers, [&](int64_t k) { return plan_for(k)->fits(); });
  if (n == 0) check_device_memory(*placed.plan, cat(where, " (not even one layer fits)"));
  const DeviceMemoryPlan all = *placed.plan;
  placed = {n, plan_for(n), ""};
  placed.note =
      cat("device memory: all ", n_layers, " layers need ", mib(all.use()), " with ",
          mib(all.free + all.reserved), " free",
          limit ? cat(" and --gpu-memory ", mib(limit)) : std::string(), ": the first ", n,
          " on the GPU, the other ", n_layers - n, " on the CPU (--gpu-layers N chooses)");
  return placed;
}

}  // namespace llmpipe
