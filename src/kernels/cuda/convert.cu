// Conversions feeding cuBLAS: F32 activations to F16/BF16, and weight row tiles of any dtype
// dequantized into dense F16 or F32 (the prefill path for quantized weights).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"
#include "kernels/cuda/split_layout.cuh"

namespace llmpipe::cuda {

namespace {

__global__ void f32_to_f16_kernel(__half* dst, const float* src, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) dst[i] = __float2half_rn(src[i]);
}

__global__ void f32_to_bf16_kernel(__nv_bfloat16* dst, const float* src, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) dst[i] = __float2bfloat16_rn(src[i]);
}

__device__ __forceinline__ void put(__half* p, float v) {
  *p = __float2half_rn(v);
}
__device__ __forceinline__ void put(float* p, float v) {
  *p = v;
}

// One thread per element of the tile; consecutive threads write consecutive columns.
template <DType T, typename Out>
__global__ void dequantize_rows_kernel(Out* dst, const uint8_t* w, size_t row_bytes, int64_t row0,
                                       int64_t rows, int64_t K) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= rows * K) return;
  const int64_t r = i / K, c = i % K;
  put(dst + i, load_element<T>(w + size_t(row0 + r) * row_bytes, c));
}

// The same for Q8_0 / Q4_0 weights in the split-scales layout.
template <DType T, typename Out>
__global__ void dequantize_split_rows_kernel(Out* dst, SplitRows w, int64_t row0, int64_t rows,
                                             int64_t K) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= rows * K) return;
  const int64_t r = row0 + i / K, c = i % K;
  const float d = f16_bits_to_f32(w.scale_row(r)[c / kQK]);
  const uint8_t* q = w.quant_row(r);
  if constexpr (T == DType::Q8_0) {
    put(dst + i, d * float(int8_t(q[c])));
  } else {
    const int64_t j = c % kQK;  // GGUF order within the block's 16 bytes
    const uint8_t byte = q[(c / kQK) * (kQK / 2) + j % (kQK / 2)];
    put(dst + i, d * float((j < kQK / 2 ? byte & 0x0f : byte >> 4) - 8));
  }
}

template <typename Out>
void dequantize_rows(Out* dst, TensorView w, int64_t row0, int64_t rows, cudaStream_t stream) {
  const int64_t n = rows * w.cols;
  if (n == 0) return;
  if (w.packed_rows == kSplitScales) {
    const SplitRows s = split_rows(w.data, w.dtype, w.rows, w.cols);
    if (w.dtype == DType::Q8_0)
      dequantize_split_rows_kernel<DType::Q8_0, Out>
          <<<blocks_for(n, 256), 256, 0, stream>>>(dst, s, row0, rows, w.cols);
    else
      dequantize_split_rows_kernel<DType::Q4_0, Out>
          <<<blocks_for(n, 256), 256, 0, stream>>>(dst, s, row0, rows, w.cols);
    CUDA_CHECK_LAUNCH();
    return;
  }
  dispatch_dtype(w.dtype, [&]<DType T>() {
    dequantize_rows_kernel<T, Out><<<blocks_for(n, 256), 256, 0, stream>>>(
        dst, static_cast<const uint8_t*>(w.data), w.row_bytes(), row0, rows, w.cols);
  });
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void convert_f32_to_f16(void* dst, const float* src, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  f32_to_f16_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(static_cast<__half*>(dst), src, n);
  CUDA_CHECK_LAUNCH();
}

void convert_f32_to_bf16(void* dst, const float* src, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  f32_to_bf16_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(static_cast<__nv_bfloat16*>(dst), src,
                                                             n);
  CUDA_CHECK_LAUNCH();
}

void dequantize_rows_f16(void* dst, TensorView w, int64_t row0, int64_t rows, cudaStream_t stream) {
  dequantize_rows(static_cast<__half*>(dst), w, row0, rows, stream);
}

void dequantize_rows_f32(float* dst, TensorView w, int64_t row0, int64_t rows,
                         cudaStream_t stream) {
  dequantize_rows(dst, w, row0, rows, stream);
}

}  // namespace llmpipe::cuda
