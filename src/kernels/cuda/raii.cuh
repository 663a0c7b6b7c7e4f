// Owners of CUDA resources (device memory, streams, events, cuBLAS handles): each releases its
// resource exactly once, in its destructor, and is movable but not copyable. Destructors never
// throw: a failure while releasing is ignored (the context is usually being torn down anyway).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "kernels/cuda/check.h"

namespace llmpipe::cuda {

template <typename Handle, void (*Release)(Handle)>
class Owned {
 public:
  Owned() = default;
  explicit Owned(Handle h) : h_(h) {}
  Owned(Owned&& o) noexcept : h_(std::exchange(o.h_, Handle{})) {}
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, Handle{});
    }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { reset(); }

  Handle get() const { return h_; }
  explicit operator bool() const { return h_ != Handle{}; }
  void reset() {
    if (h_ != Handle{}) Release(h_);
    h_ = Handle{};
  }

 private:
  Handle h_{};
};

inline void release_stream(cudaStream_t s) {
  cudaStreamDestroy(s);
}
inline void release_event(cudaEvent_t e) {
  cudaEventDestroy(e);
}
inline void release_cublas(cublasHandle_t h) {
  cublasDestroy(h);
}
inline void release_device_memory(void* p) {
  cudaFree(p);
}

using Stream = Owned<cudaStream_t, release_stream>;
using Event = Owned<cudaEvent_t, release_event>;
using CublasHandle = Owned<cublasHandle_t, release_cublas>;

inline Stream make_stream() {
  cudaStream_t s{};
  CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return Stream(s);
}

inline Event make_event() {
  cudaEvent_t e{};
  CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  return Event(e);
}

// An event that records time (cudaEventElapsedTime), for measurements only: timing costs a
// little on every record, which the synchronization events above avoid.
inline Event make_timing_event() {
  cudaEvent_t e{};
  CUDA_CHECK(cudaEventCreate(&e));
  return Event(e);
}

inline CublasHandle make_cublas(cudaStream_t stream) {
  cublasHandle_t h{};
  CUBLAS_CHECK(cublasCreate(&h));
  CublasHandle owned(h);
  CUBLAS_CHECK(cublasSetStream(h, stream));
  return owned;
}

// A device allocation that can grow (contents are not kept when it does). Used for scratch
// space whose size depends on the batch: ids, positions, converted activations, partial sums.
class DeviceScratch {
 public:
  // Returns at least `bytes` of device memory. Growing first waits for `stream` (kernels still
  // reading the old memory run there), so callers size it up front where they can.
  // While `stream` is being captured into a graph nothing may wait for it: the old memory (which
  // recorded ops still use) is kept aside until the next growth outside a capture.
  void* get(size_t bytes, cudaStream_t stream) {
    if (bytes > bytes_) {
      cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
      CUDA_CHECK(cudaStreamIsCapturing(stream, &capture));
      if (capture == cudaStreamCaptureStatusNone) {
        if (mem_) CUDA_CHECK(cudaStreamSynchronize(stream));
        retired_.clear();
        mem_.reset();
      } else if (mem_) {
        retired_.push_back(std::move(mem_));
      }
      void* p = nullptr;
      CUDA_CHECK(cudaMalloc(&p, bytes));
      mem_ = DeviceMemory(p);
      bytes_ = bytes;
    }
    return mem_.get();
  }
  size_t bytes() const { return bytes_; }

 private:
  using DeviceMemory = Owned<void*, release_device_memory>;
  DeviceMemory mem_;
  std::vector<DeviceMemory> retired_;
  size_t bytes_ = 0;
};

inline void release_host_memory(void* p) {
  cudaFreeHost(p);
}
inline void release_graph(cudaGraph_t g) {
  cudaGraphDestroy(g);
}
inline void release_graph_exec(cudaGraphExec_t e) {
  cudaGraphExecDestroy(e);
}
using PinnedMemory = Owned<void*, release_host_memory>;
using Graph = Owned<cudaGraph_t, release_graph>;
using GraphExec = Owned<cudaGraphExec_t, release_graph_exec>;

inline PinnedMemory make_pinned(size_t bytes) {
  void* p = nullptr;
  CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocDefault));
  return PinnedMemory(p);
}

}  // namespace llmpipe::cuda
