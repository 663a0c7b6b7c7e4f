// matvec_q4_0_f32: decode-sized products (<= kMatvecMaxTokens tokens) with Q4_0 weights in the
// split-scales layout, through the shared kernel (matvec_blocks.cuh): a 16-byte load holds one
// block's 32 quants (low nibbles weights 0..15, high nibbles 16..31, as in GGUF).
#include "kernels/cuda/matvec_blocks.cuh"

namespace llmpipe::cuda {

namespace {

struct Q4_0Split {
  static constexpr int kWeightsPerLoad = 32;
  static constexpr int kRowsPerBlock = 4;  // H100, 3B Q4_0 tg128: 1 row 165 t/s, 2: 222, 4: 268
  // Weights [4 k, 4 k + 4): low nibbles of word k (k < 4) or high nibbles of word k - 4, each
  // nibble n standing for n - 8.
  __device__ static void weights4(const uint4& v, int k, float q[4]) {
    const int j = k % 4;
    const uint32_t word = j == 0 ? v.x : j == 1 ? v.y : j == 2 ? v.z : v.w;
    bytes_to_floats((k < 4 ? word : word >> 4) & 0x0f0f0f0fu, 8.0f, q);
  }
};

}  // namespace

void matvec_q4_0_f32(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  launch_matvec_split_f32<Q4_0Split>(out, in, w, stream);
}

}  // namespace llmpipe::cuda
