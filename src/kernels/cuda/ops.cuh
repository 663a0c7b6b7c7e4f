// Launchers of the CUDA kernels, one file per op (get_rows.cu, rms_norm.cu, ...). All take
// device pointers (TensorView::data is device memory here), enqueue on `stream` and return
// without synchronizing. Shape checks happen in CudaBackend before these are called; the
// preconditions listed here are the ones the kernels rely on.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/backend.h"

namespace llmpipe::cuda {

// A BatchLayout with its positions and slots copied to the device.
struct DeviceBatch {
  const int32_t* positions = nullptr;  // [n_tokens], device
  const int32_t* slots = nullptr;      // [n_tokens], device
  int64_t n_tokens = 0;
  int32_t max_position = 0;  // largest position in the batch (host-side value)
};

// get_rows.cu: out[i] = dequantized table row ids[i]. ids: device, already range-checked.
void get_rows_f32(TensorView out, TensorView table, const int32_t* ids, cudaStream_t stream);

// rms_norm.cu: out = in / rms(in) * weight per row; out may alias in. With `residual`
// ([rows, cols] like in), in += residual first, in the same pass; out may alias residual.
void rms_norm_f32(TensorView out, TensorView in, const float* weight, float eps,
                  cudaStream_t stream, const float* residual = nullptr);

// rope.cu: in place. rope_angles_f32 fills table [n_tokens, head_dim / 2] with (cos, sin) of
// the batch's angles (params.freq_factors: device memory or null), computed in double
// precision as the CPU reference; rope_apply_f32 rotates the pairs (adjacent or NEOX) of every
// head of x [n_tokens, heads * head_dim] with it.
void rope_angles_f32(float2* table, const DeviceBatch& batch, const RopeParams& params,
                     cudaStream_t stream);
void rope_apply_f32(TensorView x, const float2* table, int head_dim, RopeStyle style,
                    cudaStream_t stream);

// rope_store_kv.cu: rope_apply_f32 of q and k, then store_kv_f32 of k and v, in one kernel
// (the same arithmetic). Precondition: q and k 8-byte aligned.
void rope_store_kv_f32(TensorView q, TensorView k, TensorView v, KvView cache,
                       const float2* table, const DeviceBatch& batch, int head_dim,
                       RopeStyle style, cudaStream_t stream);

// add_rows.cu: x[r, :] += bias[:] for every row r of x [rows, cols].
void add_rows_f32(float* x, const float* bias, int64_t rows, int64_t cols, cudaStream_t stream);

// store_kv.cu: cache rows (slot * n_ctx + position) get k and v (F32 -> cache type F32/F16).
void store_kv_f32(KvView cache, TensorView k, TensorView v, const DeviceBatch& batch,
                  cudaStream_t stream);

// attention.cu: split-K (flash-decoding) causal attention. Precondition: head_dim <= 256.
// `partials` must hold attention_partials_bytes(...) bytes.
struct AttentionPlan {
  int n_splits = 1;        // key ranges per (token, head), combined by a second kernel
  int keys_per_split = 0;  // a multiple of the key tile
};
AttentionPlan plan_attention(int64_t n_items, int32_t max_keys, int sm_count);
size_t attention_partials_bytes(int64_t n_items, const AttentionPlan& plan, int head_dim);
void attention_f32(TensorView out, TensorView q, KvView cache, const DeviceBatch& batch,
                   AttentionShape shape, const AttentionPlan& plan, float* partials,
                   cudaStream_t stream);
inline constexpr int kMaxHeadDim = 256;

// argmax.cu: ids[r] (device, x.rows ints) = the argmax of row r, as Backend::argmax_rows.
void argmax_rows_f32(int32_t* ids, TensorView x, cudaStream_t stream);

// swiglu.cu / add.cu: elementwise over n floats.
void swiglu_f32(float* gate, const float* up, int64_t n, cudaStream_t stream);
void add_f32(float* x, const float* y, int64_t n, cudaStream_t stream);

// split_weights.cu: GGUF Q8_0 / Q4_0 blocks [rows, cols] at src (device) -> the split-scales
// layout (split_layout.cuh) at dst (device, the same number of bytes, 16-byte aligned).
void split_quantized(void* dst, const void* src, DType t, int64_t rows, int64_t cols,
                     cudaStream_t stream);

// Matrix-vector products for decode (few tokens): out[n, M] = in[n, K] · w[M, K]ᵀ with F32
// activations, all n tokens per weight load.
// Preconditions: n <= kMatvecMaxTokens; in 16-byte aligned; Q8_0/Q4_0 weights in the split
// layout (K a multiple of 32), f16/bf16 weights with K even.
inline constexpr int64_t kMatvecMaxTokens = 8;
void matvec_q8_0_f32(TensorView out, TensorView in, TensorView w,
                     cudaStream_t stream);  // matvec_q8_0.cu
void matvec_q4_0_f32(TensorView out, TensorView in, TensorView w,
                     cudaStream_t stream);  // matvec_q4_0.cu
void matvec_f16_f32(TensorView out, TensorView in, TensorView w,
                    cudaStream_t stream);  // matvec_f16.cu
void matvec_bf16_f32(TensorView out, TensorView in, TensorView w,
                     cudaStream_t stream);  // matvec_f16.cu

// The warp kernel (matvec_warp.cuh), the default: the decode products of one input with up to
// kMatvecMaxProducts weights of one type and row length K (a layer's q, k and v in one launch),
// or gate and up with silu(gate) * up written to out[0] (MatvecEpilogue::Swiglu; rows[0] ==
// rows[1]). Preconditions: n_tokens <= kMatvecMaxTokens; x 16-byte aligned; Q8_0/Q4_0 weights in
// the split layout; K a multiple of 32 (Q8_0/Q4_0) or 8 (F16/BF16).
inline constexpr int kMatvecMaxProducts = 3;
enum class MatvecEpilogue { Store, Swiglu };
struct MatvecGroup {
  const float* x = nullptr;  // [n_tokens, K]
  int64_t K = 0;
  int n_tokens = 0;
  int count = 0;  // products
  const void* w[kMatvecMaxProducts] = {};
  float* out[kMatvecMaxProducts] = {};  // [n_tokens, rows[i]]
  int64_t rows[kMatvecMaxProducts] = {};
  // Set by the launcher: warps [first_warp_end[i - 1], first_warp_end[i]) take product i.
  int64_t first_warp_end[kMatvecMaxProducts] = {};
};
// rows_per_warp: 1 or 2, or 0 for the type's default (matvec_formats.cuh).
void matvec_group_q8_0(MatvecGroup g, MatvecEpilogue e, int rows_per_warp,
                       cudaStream_t stream);  // matvec_q8_0.cu
void matvec_group_q4_0(MatvecGroup g, MatvecEpilogue e, int rows_per_warp,
                       cudaStream_t stream);  // matvec_q4_0.cu
void matvec_group_f16(MatvecGroup g, MatvecEpilogue e, int rows_per_warp,
                      cudaStream_t stream);  // matvec_f16.cu
void matvec_group_bf16(MatvecGroup g, MatvecEpilogue e, int rows_per_warp,
                       cudaStream_t stream);  // matvec_f16.cu

// convert.cu: dst[i] = src[i] converted (round to nearest even); rows [row0, row0 + rows) of
// w dequantized into a dense F16 or F32 tile.
void convert_f32_to_f16(void* dst, const float* src, int64_t n, cudaStream_t stream);
void convert_f32_to_bf16(void* dst, const float* src, int64_t n, cudaStream_t stream);
void dequantize_rows_f16(void* dst, TensorView w, int64_t row0, int64_t rows, cudaStream_t stream);
void dequantize_rows_f32(float* dst, TensorView w, int64_t row0, int64_t rows, cudaStream_t stream);

// matmul_cublas.cu: out[:, row0 : row0 + rows] = in · w_tileᵀ with cublasGemmEx, F32 accumulate
// and F32 output. `in` and `w_tile` have the same element type `type` (F32, F16 or BF16); the
// tile is rows x K, dense. out has leading dimension M (its row length).
void gemm_f32_out(cublasHandle_t handle, float* out, int64_t M, const void* in, const void* w_tile,
                  cudaDataType_t type, int64_t n, int64_t K, int64_t row0, int64_t rows);

}  // namespace llmpipe::cuda
