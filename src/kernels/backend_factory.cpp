#include "kernels/backend_factory.h"

#include <cstdlib>

#include "core/enum_names.h"
#include "core/error.h"
#include "kernels/cpu/cpu_backend.h"
#ifdef LLMPIPE_HAVE_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

namespace llmpipe {

namespace {

constexpr const char* kNoCuda = "llmpipe was built without CUDA (-DLLMPIPE_CUDA=ON)";

#ifdef LLMPIPE_HAVE_CUDA
// The node-local rank from the launcher's environment; 0 when launched alone.
int local_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID",
                          "PMI_LOCAL_RANK", "LOCAL_RANK"})
    if (const char* v = std::getenv(var)) return std::atoi(v);
  return 0;
}
#endif

}  // namespace

bool built_with_cuda() {
#ifdef LLMPIPE_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

std::string resolve_backend_kind(const std::string& kind) {
  if (kind == "cpu") return "cpu";
  if (kind == "cuda") {
    if (!built_with_cuda()) fail("--backend cuda: ", kNoCuda);
    return "cuda";
  }
  if (kind == "auto") {
#ifdef LLMPIPE_HAVE_CUDA
    if (cuda_device_count() > 0) return "cuda";
#endif
    return "cpu";
  }
  fail("unknown backend '", kind, "': use cpu, cuda or auto");
}

namespace {
constexpr EnumName<WeightPlacement> kWeightPlacements[] = {{WeightPlacement::Mmap, "mmap"},
                                                           {WeightPlacement::Copy, "copy"},
                                                           {WeightPlacement::Packed, "packed"}};
}  // namespace

WeightPlacement weight_placement_from_name(const std::string& name) {
  return enum_from_name<WeightPlacement>(kWeightPlacements, name, "weight placement");
}

const char* weight_placement_name(WeightPlacement placement) {
  return enum_name<WeightPlacement>(kWeightPlacements, placement);
}

std::unique_ptr<Backend> make_backend(const BackendOptions& o) {
  const std::string kind = resolve_backend_kind(o.kind);
  if (kind == "cpu")
    return std::make_unique<CpuBackend>(
        CpuBackendOptions{.threads = o.threads, .weights = o.weights});
#ifdef LLMPIPE_HAVE_CUDA
  const int count = cuda_device_count();
  if (count == 0) fail("--backend cuda: ", cuda_device_summary());
  CudaBackendOptions cuda;
  cuda.device = o.device >= 0 ? o.device : local_rank() % count;
  return make_cuda_backend(cuda);
#else
  fail(kNoCuda);
#endif
}

std::string gpu_summary() {
#ifdef LLMPIPE_HAVE_CUDA
  return cuda_device_summary();
#else
  return "";
#endif
}

std::optional<DeviceMemory> device_memory([[maybe_unused]] Backend& backend) {
#ifdef LLMPIPE_HAVE_CUDA
  if (const auto m = cuda_backend_memory(backend))
    return DeviceMemory{m->free_bytes, m->total_bytes, m->allocated_bytes, m->workspace_bytes};
#endif
  return std::nullopt;
}

std::optional<double> device_read_bandwidth_gbs([[maybe_unused]] Backend& backend,
                                                [[maybe_unused]] size_t bytes) {
#ifdef LLMPIPE_HAVE_CUDA
  if (const auto device = cuda_backend_device(backend))
    return cuda_read_bandwidth_gbs(*device, bytes);
#endif
  return std::nullopt;
}

std::optional<std::string> gpu_uuid([[maybe_unused]] Backend& backend) {
#ifdef LLMPIPE_HAVE_CUDA
  return cuda_backend_uuid(backend);
#else
  return std::nullopt;
#endif
}

}  // namespace llmpipe
