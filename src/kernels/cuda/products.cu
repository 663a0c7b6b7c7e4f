// Products: which kernel computes which matrix product (products.cuh).
#include "kernels/cuda/products.cuh"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/split_layout.cuh"

namespace llmpipe::cuda {

namespace {

DecodeKernels decode_kernels_from_env() {
  const char* v = std::getenv("LLMPIPE_CUDA_DECODE");
  if (!v || std::string(v) == "warp") return DecodeKernels::Warp;
  if (std::string(v) == "block") return DecodeKernels::Block;
  fail("LLMPIPE_CUDA_DECODE=", v, ": expected warp or block");
}

// Rows per warp of the warp kernel: 1 or 2 (LLMPIPE_CUDA_WARP_ROWS), else each type's default.
int warp_rows_from_env() {
  const char* v = std::getenv("LLMPIPE_CUDA_WARP_ROWS");
  if (!v || !*v) return 0;
  const std::string s(v);
  if (s == "1" || s == "2") return std::stoi(s);
  fail("LLMPIPE_CUDA_WARP_ROWS=", s, ": expected 1 or 2");
}

MatvecGroup group_of(TensorView in) {
  MatvecGroup g;
  g.x = static_cast<const float*>(in.data);
  g.K = in.cols;
  g.n_tokens = int(in.rows);
  return g;
}

void add_product(MatvecGroup& g, TensorView out, TensorView w) {
  g.w[g.count] = w.data;
  g.out[g.count] = static_cast<float*>(out.data);
  g.rows[g.count] = w.rows;
  ++g.count;
}

}  // namespace

Products::Products(cudaStream_t stream, cublasHandle_t cublas, int sm_major, size_t tile_bytes)
    : stream_(stream),
      cublas_(cublas),
      sm_major_(sm_major),
      tile_bytes_(tile_bytes),
      decode_(decode_kernels_from_env()),
      warp_rows_(warp_rows_from_env()) {
  tiles_.get(tile_bytes, stream);
}

void Products::matmul(TensorView out, TensorView in, TensorView w) {
  if (in.rows == 0) return;
  if (warp_decode(in, w)) {
    MatvecGroup g = group_of(in);
    add_product(g, out, w);
    return launch_group(g, w.dtype, MatvecEpilogue::Store);
  }
  const int64_t n = in.rows, K = in.cols, M = w.rows;
  const bool few = n <= kMatvecMaxTokens && aligned16(in.data);
  float* y = static_cast<float*>(out.data);
  switch (w.dtype) {
    case DType::F32:
      gemm_f32_out(cublas_, y, M, in.data, w.data, CUDA_R_32F, n, K, 0, M);
      return;
    case DType::Q8_0:  // the matvec kernels read the split layout; tiles read either
      if (few && w.packed_rows == kSplitScales) return matvec_q8_0_f32(out, in, w, stream_);
      return tiled_f16(out, in, w);
    case DType::Q4_0:
      if (few && w.packed_rows == kSplitScales) return matvec_q4_0_f32(out, in, w, stream_);
      return tiled_f16(out, in, w);
    case DType::F16:
      if (few && K % 2 == 0) return matvec_f16_f32(out, in, w, stream_);
      return gemm_f32_out(cublas_, y, M, activations_as(in, DType::F16), w.data, CUDA_R_16F, n, K,
                          0, M);
    case DType::BF16:
      if (few && K % 2 == 0) return matvec_bf16_f32(out, in, w, stream_);
      if (sm_major_ >= 8)  // BF16 tensor-core GEMM from Ampere on
        return gemm_f32_out(cublas_, y, M, activations_as(in, DType::BF16), w.data, CUDA_R_16BF, n,
                            K, 0, M);
      return tiled_f32(out, in, w);
    default:
      break;  // refused by place_weight
  }
  fail("matmul: unsupported weight type ", dtype_name(w.dtype));
}

bool Products::matmul_many(std::span<const TensorView> outs, TensorView in,
                           std::span<const TensorView> ws) {
  if (ws.empty() || ws.size() > size_t(kMatvecMaxProducts) || in.rows == 0) return false;
  for (const TensorView& w : ws)
    if (w.dtype != ws[0].dtype || !warp_decode(in, w)) return false;
  MatvecGroup g = group_of(in);
  for (size_t i = 0; i < ws.size(); ++i) add_product(g, outs[i], ws[i]);
  launch_group(g, ws[0].dtype, MatvecEpilogue::Store);
  return true;
}

bool Products::matmul_swiglu(TensorView gate, TensorView in, TensorView w_gate, TensorView w_up) {
  if (w_gate.dtype != w_up.dtype || w_gate.rows != w_up.rows || !warp_decode(in, w_gate) ||
      !warp_decode(in, w_up) || in.rows == 0)
    return false;
  MatvecGroup g = group_of(in);
  add_product(g, gate, w_gate);
  g.w[g.count] = w_up.data;  // up's rows are read beside gate's; only gate is written
  g.rows[g.count] = w_up.rows;
  ++g.count;
  launch_group(g, w_gate.dtype, MatvecEpilogue::Swiglu);
  return true;
}

// Whether the warp kernel takes the decode-sized product in · wᵀ.
bool Products::warp_decode(TensorView in, TensorView w) const {
  if (decode_ != DecodeKernels::Warp || in.rows > kMatvecMaxTokens || !aligned16(in.data) ||
      !aligned16(w.data))
    return false;
  switch (w.dtype) {
    case DType::Q8_0:
    case DType::Q4_0:
      return w.packed_rows == kSplitScales;
    case DType::F16:
    case DType::BF16:
      return w.cols % 8 == 0;
    case DType::F32:
      return false;  // cuBLAS
    default:
      return false;
  }
  return false;
}

void Products::launch_group(const MatvecGroup& g, DType t, MatvecEpilogue e) {
  switch (t) {
    case DType::Q8_0:
      return matvec_group_q8_0(g, e, warp_rows_, stream_);
    case DType::Q4_0:
      return matvec_group_q4_0(g, e, warp_rows_, stream_);
    case DType::F16:
      return matvec_group_f16(g, e, warp_rows_, stream_);
    case DType::BF16:
      return matvec_group_bf16(g, e, warp_rows_, stream_);
    default:
      break;
  }
  fail("matvec: no warp kernel for ", dtype_name(t));
}

// `in` converted to F16 or BF16 in scratch, for cuBLAS products with 16-bit weights.
const void* Products::activations_as(TensorView in, DType type) {
  const int64_t count = in.rows * in.cols;
  void* dst = act_.get(size_t(count) * 2, stream_);
  const auto* src = static_cast<const float*>(in.data);
  if (type == DType::F16)
    convert_f32_to_f16(dst, src, count, stream_);
  else
    convert_f32_to_bf16(dst, src, count, stream_);
  return dst;
}

int64_t Products::tile_rows(int64_t K, size_t element_bytes) const {
  return std::max<int64_t>(1, int64_t(tile_bytes_ / (size_t(K) * element_bytes)));
}

// Many tokens, quantized weights: dequantize row tiles to F16 and multiply with cuBLAS (tensor
// cores), activations rounded to F16 as llama.cpp's cuBLAS path does.
void Products::tiled_f16(TensorView out, TensorView in, TensorView w) {
  const int64_t n = in.rows, K = in.cols, M = w.rows;
  const void* x16 = activations_as(in, DType::F16);
  const int64_t rows = std::min(M, tile_rows(K, 2));
  void* tile = tiles_.get(size_t(rows * K) * 2, stream_);
  for (int64_t r0 = 0; r0 < M; r0 += rows) {
    const int64_t r = std::min(rows, M - r0);
    dequantize_rows_f16(tile, w, r0, r, stream_);
    gemm_f32_out(cublas_, static_cast<float*>(out.data), M, x16, tile, CUDA_R_16F, n, K, r0, r);
  }
}

// As tiled_f16 with F32 tiles and F32 activations (BF16 weights before Ampere).
void Products::tiled_f32(TensorView out, TensorView in, TensorView w) {
  const int64_t n = in.rows, K = in.cols, M = w.rows;
  const int64_t rows = std::min(M, tile_rows(K, 4));
  auto* tile = static_cast<float*>(tiles_.get(size_t(rows * K) * 4, stream_));
  for (int64_t r0 = 0; r0 < M; r0 += rows) {
    const int64_t r = std::min(rows, M - r0);
    dequantize_rows_f32(tile, w, r0, r, stream_);
    gemm_f32_out(cublas_, static_cast<float*>(out.data), M, in.data, tile, CUDA_R_32F, n, K, r0, r);
  }
}

}  // namespace llmpipe::cuda
