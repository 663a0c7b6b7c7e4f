// Device-memory read bandwidth, the floor against which `llmpipe bench --backend cuda` reports
// decoding: every block streams its share of a buffer with 16-byte loads (as the matvec
// kernels read weights) and writes one word, so the bytes moved are the bytes read.
#include <algorithm>
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/raii.cuh"

namespace llmpipe {

namespace {

// Precondition: n16 = number of uint4 in `in`; out has gridDim.x words.
__global__ void read_all_kernel(const uint4* __restrict__ in, size_t n16, uint32_t* out) {
  uint32_t acc = 0;
  const size_t stride = size_t(gridDim.x) * blockDim.x;
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n16; i += stride) {
    const uint4 v = in[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  // One word per block, written only if the XOR is a value the buffer never makes, so the
  // compiler must keep the loads and the write costs nothing.
  if (acc == 0x9e3779b9u) out[blockIdx.x] = acc;
}

}  // namespace

double cuda_read_bandwidth_gbs(int device, size_t bytes, int passes) {
  if (bytes < (size_t(1) << 20))
    fail("device bandwidth test: buffer of ", bytes, " bytes is too small");
  CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp props{};
  CUDA_CHECK(cudaGetDeviceProperties(&props, device));
  const size_t n16 = bytes / sizeof(uint4);
  cuda::DeviceScratch buffer, out;
  const cuda::Stream stream = cuda::make_stream();
  auto* in = static_cast<uint4*>(buffer.get(n16 * sizeof(uint4), stream.get()));
  const int blocks = props.multiProcessorCount * 4;
  auto* words = static_cast<uint32_t*>(out.get(size_t(blocks) * 4, stream.get()));
  CUDA_CHECK(cudaMemsetAsync(in, 1, n16 * sizeof(uint4), stream.get()));
  const cuda::Event start = cuda::make_timing_event(), stop = cuda::make_timing_event();
  double best_ms = 1e30;
  for (int p = 0; p < passes + 1; ++p) {  // pass 0 warms up
    CUDA_CHECK(cudaEventRecord(start.get(), stream.get()));
    read_all_kernel<<<blocks, 512, 0, stream.get()>>>(in, n16, words);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaEventRecord(stop.get(), stream.get()));
    CUDA_CHECK(cudaEventSynchronize(stop.get()));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    if (p > 0) best_ms = std::min(best_ms, double(ms));
  }
  return double(n16 * sizeof(uint4)) / (best_ms * 1e-3) / 1e9;
}

}  // namespace llmpipe
