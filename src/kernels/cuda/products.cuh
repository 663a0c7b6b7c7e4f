// Which kernel computes which matrix product on the GPU (the CUDA backend's matmul and its
// fused products): decode-sized products (n <= kMatvecMaxTokens) by the warp kernel
// (matvec_warp.cuh) or, with LLMPIPE_CUDA_DECODE=block, the block kernels; larger ones by
// cuBLAS, through F16/BF16 activations or dequantized weight tiles (docs/cuda.md).
// Shapes are checked by the caller (CudaBackend).
#pragma once

#include <span>

#include "kernels/backend.h"
#include "kernels/cuda/ops.cuh"
#include "kernels/cuda/raii.cuh"

namespace llmpipe::cuda {

// Which kernels take decode-sized products: the warp kernel with the fused ops (default), or
// the earlier block kernels with every op on its own (LLMPIPE_CUDA_DECODE=block), kept to
// compare the two on one machine.
enum class DecodeKernels { Warp, Block };

class Products {
 public:
  // Reads LLMPIPE_CUDA_DECODE and LLMPIPE_CUDA_WARP_ROWS (an Error names a bad value).
  // Reserves the tile scratch now, so that memory plans see it.
  Products(cudaStream_t stream, cublasHandle_t cublas, int sm_major, size_t tile_bytes);

  DecodeKernels decode_kernels() const { return decode_; }
  size_t scratch_bytes() const { return tiles_.bytes() + act_.bytes(); }

  // out[n, M] = in[n, K] · w[M, K]ᵀ, any n.
  void matmul(TensorView out, TensorView in, TensorView w);
  // The fused products in one launch of the warp kernel; false (nothing done) where it does
  // not take them (then the caller composes them from matmul).
  bool matmul_many(std::span<const TensorView> outs, TensorView in, std::span<const TensorView> ws);
  bool matmul_swiglu(TensorView gate, TensorView in, TensorView w_gate, TensorView w_up);

 private:
  bool warp_decode(TensorView in, TensorView w) const;
  void launch_group(const MatvecGroup& g, DType t, MatvecEpilogue e);
  const void* activations_as(TensorView in, DType type);
  int64_t tile_rows(int64_t K, size_t element_bytes) const;
  void tiled_f16(TensorView out, TensorView in, TensorView w);
  void tiled_f32(TensorView out, TensorView in, TensorView w);

  cudaStream_t stream_;
  cublasHandle_t cublas_;
  int sm_major_;
  size_t tile_bytes_;
  DecodeKernels decode_;
  int warp_rows_;  // 1 or 2, or 0 for each type's default
  // Scratch: dequantized weight tiles; activations converted to 16 bits.
  DeviceScratch tiles_, act_;
};

}  // namespace llmpipe::cuda
