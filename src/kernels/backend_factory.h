// Picks and creates the compute backend by name, so that callers need not know which backends
// this build has: "cpu", "cuda" (only with -DLLMPIPE_CUDA=ON) or "auto" (CUDA when built with it
// and a GPU is visible, else CPU).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kernels/backend.h"

namespace llmpipe {

struct BackendOptions {
  std::string kind = "cpu";  // "cpu", "cuda" or "auto"
  int threads = 1;           // CPU compute threads
  // CPU: where weights live (backend.h); packed decodes fastest (bench/RESULTS.md).
  WeightPlacement weights = WeightPlacement::Packed;
  // CUDA device; -1: the process's node-local rank (Open MPI, MPICH, Slurm) modulo the visible
  // devices, so ranks sharing a node spread over its GPUs (and share them when fewer).
  int device = -1;
};

// Throws llmpipe::Error for an unknown kind, for "cuda" in a build without CUDA ("llmpipe was
// built without CUDA (-DLLMPIPE_CUDA=ON)") and when the device cannot be used.
std::unique_ptr<Backend> make_backend(const BackendOptions& options);

// "mmap", "copy" or "packed", and back; an unknown name fails with the accepted ones.
WeightPlacement weight_placement_from_name(const std::string& name);
const char* weight_placement_name(WeightPlacement placement);

// "cpu" or "cuda": what make_backend would create (resolves "auto"; checks the name).
std::string resolve_backend_kind(const std::string& kind);

bool built_with_cuda();
// Devices visible to this process and what they are ("" without CUDA).
std::string gpu_summary();

// Device memory of a GPU backend, for the memory plan; nullopt for the CPU backend.
struct DeviceMemory {
  uint64_t free_bytes = 0;  // free on the device now
  uint64_t total_bytes = 0;
  uint64_t allocated_bytes = 0;  // held by this backend so far
  uint64_t workspace_bytes = 0;  // of which scratch (dequantized tiles, partial sums, ...)
};
std::optional<DeviceMemory> device_memory(Backend& backend);

// Read bandwidth of a GPU backend's device memory in GB/s over a `bytes` buffer (the decode
// floor); nullopt for the CPU backend, whose floor bench/bandwidth.h measures.
std::optional<double> device_read_bandwidth_gbs(Backend& backend, size_t bytes);

// The UUID of a GPU backend's device (unique across nodes: tells whether two ranks share a
// GPU); nullopt for the CPU backend.
std::optional<std::string> gpu_uuid(Backend& backend);

}  // namespace llmpipe
