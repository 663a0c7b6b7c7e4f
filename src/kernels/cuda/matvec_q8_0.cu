// matvec_q8_0_f32: decode-sized products (<= kMatvecMaxTokens tokens) with Q8_0 weights in the
// split-scales layout, through the shared kernel (matvec_blocks.cuh): a 16-byte load holds 16
// signed quants, half a block.
#include "kernels/cuda/matvec_blocks.cuh"

namespace llmpipe::cuda {

namespace {

struct Q8_0Split {
  static constexpr int kWeightsPerLoad = 16;
  static constexpr int kRowsPerBlock = 2;  // H100, 3B Q8_0 tg128: 1 row 221 t/s, 2: 258, 4: 249
  // Weights [4 k, 4 k + 4) of the load: the signed bytes of its k-th word (XOR 0x80 makes them
  // unsigned, b + 128, which bytes_to_floats takes back off).
  __device__ static void weights4(const uint4& v, int k, float q[4]) {
    const uint32_t word = k == 0 ? v.x : k == 1 ? v.y : k == 2 ? v.z : v.w;
    bytes_to_floats(word ^ 0x80808080u, 128.0f, q);
  }
};

}  // namespace

void matvec_q8_0_f32(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  launch_matvec_split_f32<Q8_0Split>(out, in, w, stream);
}

}  // namespace llmpipe::cuda
