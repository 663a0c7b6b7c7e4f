// Error checks for CUDA runtime and cuBLAS calls: a failure throws llmpipe::Error naming
// the call, the library's message, file and line (kernels fail asynchronously, so the call that
// reports an error is not always the one that caused it; CUDA_LAUNCH_BLOCKING=1 pins it down).
// CUDA code only: include from .cu files (and the NCCL link, which defines NCCL_CHECK on top),
// never from model or pipeline code.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "core/error.h"

namespace llmpipe::cuda {

[[noreturn]] inline void throw_cuda_error(const char* call, const char* lib, const char* what,
                                          int code, const char* file, int line) {
  fail(lib, " call ", call, " failed: ", what, " (", code, ") at ", file, ":", line);
}

}  // namespace llmpipe::cuda

#define CUDA_CHECK(call)                                                                   \
  do {                                                                                     \
    const cudaError_t llmpipe_err_ = (call);                                               \
    if (llmpipe_err_ != cudaSuccess)                                                       \
      ::llmpipe::cuda::throw_cuda_error(#call, "CUDA", cudaGetErrorString(llmpipe_err_),   \
                                        int(llmpipe_err_), __FILE__, __LINE__);            \
  } while (0)

#define CUBLAS_CHECK(call)                                                                 \
  do {                                                                                     \
    const cublasStatus_t llmpipe_st_ = (call);                                             \
    if (llmpipe_st_ != CUBLAS_STATUS_SUCCESS)                                              \
      ::llmpipe::cuda::throw_cuda_error(#call, "cuBLAS", cublasGetStatusString(llmpipe_st_), \
                                        int(llmpipe_st_), __FILE__, __LINE__);             \
  } while (0)

// After a kernel launch: reports bad launch configurations at the launch site.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

