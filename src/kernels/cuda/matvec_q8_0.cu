// matvec_q8_0_f32 (block kernel, matvec_blocks.cuh) and matvec_group_q8_0 (warp kernel,
// matvec_warp.cuh): decode-sized products with Q8_0 weights in the split-scales layout.
#include "kernels/cuda/matvec_blocks.cuh"
#include "kernels/cuda/matvec_warp.cuh"

namespace llmpipe::cuda {

void matvec_q8_0_f32(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  launch_matvec_split_f32<Q8_0Split>(out, in, w, stream);
}

void matvec_group_q8_0(MatvecGroup g, MatvecEpilogue e, int rows_per_warp, cudaStream_t stream) {
  launch_matvec_group<Q8_0Split>(g, e, rows_per_warp, stream);
}

}  // namespace llmpipe::cuda
