#include "kernels/cuda/device_probe.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include "core/error.h"

namespace llmpipe {

namespace {
// The driver library the runtime needs; absent on machines that never had NVIDIA's driver.
bool driver_library_present() {
  void* handle = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!handle) return false;
  dlclose(handle);
  return true;
}
}  // namespace

CudaProbe probe_cuda() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err == cudaSuccess) {
    if (n > 0) return {CudaProbe::State::Usable, n, cat(n, " CUDA device(s)")};
    return {CudaProbe::State::Absent, 0, "no CUDA device"};
  }
  cudaGetLastError();  // clear the sticky error for later calls
  const std::string what = cat(cudaGetErrorName(err), ": ", cudaGetErrorString(err));
  if (err == cudaErrorNoDevice) return {CudaProbe::State::Absent, 0, what};
  if (!driver_library_present())
    return {CudaProbe::State::Absent, 0, cat("no NVIDIA driver (libcuda.so.1 not found; ", what, ")")};
  return {CudaProbe::State::Broken, 0,
          cat("the NVIDIA driver is installed but CUDA fails: ", what,
              " (check nvidia-smi, the driver/toolkit versions and the device state)")};
}

}  // namespace llmpipe
