// Decode-sized products (<= kMatvecMaxTokens tokens) with 16-bit weights and F32 activations
// (no rounding of the activations, as on the CPU reference): matvec_group_f16/bf16, the warp
// kernel (matvec_warp.cuh) for rows of 8k weights (every model matrix); matvec_f16/bf16_f32,
// the block kernel for such rows (LLMPIPE_CUDA_DECODE=block: a thread block per row, 16-byte
// loads, several per thread before any arithmetic) and, for other even row lengths, a warp per
// row with 4-byte loads, two weights per lane and step.
#include "kernels/cuda/matvec_blocks.cuh"
#include "kernels/cuda/matvec_warp.cuh"

namespace llmpipe::cuda {

namespace {

constexpr int kRowsPerBlock = 4;

template <bool kBf16>
__device__ __forceinline__ float to_f32(uint16_t h) {
  if constexpr (kBf16)
    return bf16_bits_to_f32(h);
  else
    return f16_bits_to_f32(h);
}

// The eight 16-bit weights packed in `v`, as floats.
template <bool kBf16>
__device__ __forceinline__ void unpack8(const uint4& v, float wf[8]) {
  const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    wf[2 * i] = to_f32<kBf16>(uint16_t(words[i] & 0xffff));
    wf[2 * i + 1] = to_f32<kBf16>(uint16_t(words[i] >> 16));
  }
}

// Precondition: K a multiple of 8 (16-byte aligned rows in cudaMalloc'd memory), x 16-byte
// aligned. A thread block of kMatvecThreads threads shares kRows rows (its warps split the row
// length and meet in shared memory), so that a 3200-row matrix still gives every SM enough
// warps, and one activation load serves kRows weights.
template <bool kBf16, int kRows, int kTokens>
__global__ void __launch_bounds__(kMatvecThreads)
    matvec_16x8_f32_kernel(float* out, const float* x, const uint4* w, int64_t M, int64_t K,
                           int n_tokens) {
  const int64_t m0 = int64_t(blockIdx.x) * kRows;
  const int64_t n8 = K / 8;
  const uint4* rows[kRows];
#pragma unroll
  for (int r = 0; r < kRows; ++r) rows[r] = w + std::min(m0 + r, M - 1) * n8;  // tail: re-read
  float acc[kRows * kTokens] = {};                                             // [row][token]
  for (int64_t p0 = threadIdx.x; p0 < n8; p0 += int64_t(kMatvecThreads) * kMatvecUnroll) {
    uint4 v[kRows][kMatvecUnroll];
#pragma unroll
    for (int u = 0; u < kMatvecUnroll; ++u)
      if (p0 + u * kMatvecThreads < n8)
#pragma unroll
        for (int r = 0; r < kRows; ++r) v[r][u] = rows[r][p0 + u * kMatvecThreads];
#pragma unroll
    for (int u = 0; u < kMatvecUnroll; ++u) {
      const int64_t p = p0 + u * kMatvecThreads;
      if (p >= n8) break;
      float wf[kRows][8];
#pragma unroll
      for (int r = 0; r < kRows; ++r) unpack8<kBf16>(v[r][u], wf[r]);
#pragma unroll
      for (int t = 0; t < kTokens; ++t) {
        if (t >= n_tokens) break;
        const float4 a = *reinterpret_cast<const float4*>(x + t * K + 8 * p);
        const float4 c = *reinterpret_cast<const float4*>(x + t * K + 8 * p + 4);
#pragma unroll
        for (int r = 0; r < kRows; ++r)
          acc[r * kTokens + t] += wf[r][0] * a.x + wf[r][1] * a.y + wf[r][2] * a.z +
                                  wf[r][3] * a.w + wf[r][4] * c.x + wf[r][5] * c.y +
                                  wf[r][6] * c.z + wf[r][7] * c.w;
      }
    }
  }
  store_block_sums<kRows, kTokens>(acc, out, M, m0, n_tokens);
}

// Precondition: K even, rows 4-byte aligned (cudaMalloc'd weights with even K are).
template <bool kBf16>
__global__ void matvec_16x2_f32_kernel(float* out, const float* x, const uint16_t* w, int64_t M,
                                       int64_t K, int n_tokens) {
  const int64_t m = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  if (m >= M) return;  // whole warps leave together
  const int lane = threadIdx.x % kWarp;
  const uint32_t* row = reinterpret_cast<const uint32_t*>(w + m * K);
  float acc[kMatvecMaxTokens] = {};
  for (int64_t p = lane; p < K / 2; p += kWarp) {
    const uint32_t pair = row[p];
    const float w0 = to_f32<kBf16>(uint16_t(pair & 0xffff)),
                w1 = to_f32<kBf16>(uint16_t(pair >> 16));
#pragma unroll
    for (int t = 0; t < kMatvecMaxTokens; ++t) {
      if (t >= n_tokens) break;
      const float2 a = *reinterpret_cast<const float2*>(x + t * K + 2 * p);
      acc[t] += w0 * a.x + w1 * a.y;
    }
  }
#pragma unroll
  for (int t = 0; t < kMatvecMaxTokens; ++t) {
    if (t >= n_tokens) break;
    const float s = warp_sum(acc[t]);
    if (lane == 0) out[t * M + m] = s;
  }
}

template <bool kBf16>
void launch(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  const unsigned blocks = blocks_for(w.rows, kRowsPerBlock);
  auto* y = static_cast<float*>(out.data);
  const auto* x = static_cast<const float*>(in.data);
  check_matvec_inputs("matvec_16", in.rows, x, w.cols, 2);
  if (w.cols % 8 == 0) {
    const auto* w8 = static_cast<const uint4*>(w.data);
    // One row per block: H100, 3B BF16 tg128: 1 row 232 t/s, 2: 231, 4: 229.
    dispatch_tokens(int(in.rows), [&]<int kT>() {
      matvec_16x8_f32_kernel<kBf16, 1, kT>
          <<<unsigned(w.rows), kMatvecThreads, 0, stream>>>(y, x, w8, w.rows, w.cols, int(in.rows));
    });
  } else {
    matvec_16x2_f32_kernel<kBf16><<<blocks, kRowsPerBlock * kWarp, 0, stream>>>(
        y, x, static_cast<const uint16_t*>(w.data), w.rows, w.cols, int(in.rows));
  }
  CUDA_CHECK_LAUNCH();
}

}  // namespace

void matvec_f16_f32(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  launch<false>(out, in, w, stream);
}

void matvec_bf16_f32(TensorView out, TensorView in, TensorView w, cudaStream_t stream) {
  launch<true>(out, in, w, stream);
}

void matvec_group_f16(MatvecGroup g, MatvecEpilogue e, int rows_per_warp, cudaStream_t stream) {
  launch_matvec_group<Half16Format<false>>(g, e, rows_per_warp, stream);
}

void matvec_group_bf16(MatvecGroup g, MatvecEpilogue e, int rows_per_warp, cudaStream_t stream) {
  launch_matvec_group<Half16Format<true>>(g, e, rows_per_warp, stream);
}

}  // namespace llmpipe::cuda
