// The CUDA backend, seen from plain C++: no CUDA header is included here, so model, pipeline
// and app code can create and query it without knowing about CUDA. Only built with
// -DLLMPIPE_CUDA=ON (the factory in kernels/backend_factory.h hides even that).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kernels/backend.h"

namespace llmpipe {

struct CudaBackendOptions {
  int device = 0;
  // Scratch for dequantized weight tiles in many-token (prefill) products of quantized weights:
  // larger tiles mean fewer, bigger cuBLAS calls.
  size_t tile_workspace_bytes = size_t(64) << 20;
};

struct CudaMemoryInfo {
  uint64_t free_bytes = 0;
  uint64_t total_bytes = 0;
  uint64_t allocated_bytes = 0;  // by this backend: weights, KV cache, activations, scratch
  uint64_t workspace_bytes = 0;  // the part of allocated_bytes that is scratch
};

// Throws llmpipe::Error when the device does not exist or cannot be initialized.
std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options);

// GPUs visible to this process; 0 when there is no GPU or no driver (never throws).
int cuda_device_count();

// One line per device ("cuda:0 NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB"), or why there is none.
std::string cuda_device_summary();

// Memory of the device a CUDA backend runs on; nullopt when `backend` is not a CUDA backend.
std::optional<CudaMemoryInfo> cuda_backend_memory(Backend& backend);

// The device a CUDA backend runs on; nullopt when `backend` is not a CUDA backend.
std::optional<int> cuda_backend_device(Backend& backend);

// The UUID of that device ("GPU-xxxxxxxx-..."), unique across nodes; nullopt as above.
std::optional<std::string> cuda_backend_uuid(Backend& backend);

// A CUDA backend's stream, as an opaque pointer (a cudaStream_t) for code that queues work
// beside the backend's own (NCCL hops); nullptr when `backend` is not a CUDA backend.
void* cuda_backend_stream(Backend& backend);

// Read bandwidth of the device's memory in GB/s (10^9 bytes/s): the best of `passes` timed
// reads of a `bytes` buffer, after one warm-up. The decode floor of `llmpipe bench`.
double cuda_read_bandwidth_gbs(int device, size_t bytes, int passes = 5);

// The scratch a CUDA backend with these options reserves up front (for memory plans).
uint64_t cuda_reserved_workspace_bytes(const CudaBackendOptions& options);

}  // namespace llmpipe
