// split_quantized: GGUF Q8_0 / Q4_0 blocks -> the split-scales layout (split_layout.cuh), on the
// device, once per weight at load.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"
#include "kernels/cuda/split_layout.cuh"

namespace llmpipe::cuda {

namespace {

// One thread per block of 32 weights: its scale and quant bytes move to their split places.
template <typename Block>
__global__ void split_blocks_kernel(uint8_t* quants, uint16_t* scales, const Block* src,
                                    int64_t n_blocks) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_blocks) return;
  const Block& b = src[i];
  scales[i] = b.d;
  uint8_t* q = quants + i * int64_t(sizeof(b.qs));  // rows are whole blocks: i-th block's place
#pragma unroll
  for (int k = 0; k < int(sizeof(b.qs)); ++k) q[k] = uint8_t(b.qs[k]);
}

}  // namespace

void split_quantized(void* dst, const void* src, DType t, int64_t rows, int64_t cols,
                     cudaStream_t stream) {
  const int64_t n_blocks = rows * (cols / kQK);
  if (n_blocks == 0) return;
  auto* quants = static_cast<uint8_t*>(dst);
  auto* scales = reinterpret_cast<uint16_t*>(quants + rows * split_quant_bytes(t, cols));
  if (t == DType::Q8_0)
    split_blocks_kernel<<<blocks_for(n_blocks, 256), 256, 0, stream>>>(
        quants, scales, static_cast<const BlockQ8_0*>(src), n_blocks);
  else
    split_blocks_kernel<<<blocks_for(n_blocks, 256), 256, 0, stream>>>(
        quants, scales, static_cast<const BlockQ4_0*>(src), n_blocks);
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
