// gemm_f32_out: the many-token (prefill) matrix product through cuBLAS.
//
// Row-major out[n, M] = in[n, K] · W[M, K]ᵀ is, in cuBLAS's column-major terms,
// C (M x n, ldc = M) = Aᵀ · B with A = W seen as K x M (lda = K) and B = in seen as K x n
// (ldb = K). A tile of weight rows [row0, row0 + rows) writes columns row0.. of out.
// Accumulation is F32 (CUBLAS_COMPUTE_32F: no TF32 for F32 inputs, so F32 weights give
// F32-exact products up to summation order).
#include <climits>

#include "kernels/cuda/check.h"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

void gemm_f32_out(cublasHandle_t handle, float* out, int64_t M, const void* in, const void* w_tile,
                  cudaDataType_t type, int64_t n, int64_t K, int64_t row0, int64_t rows) {
  LLMPIPE_CHECK(M <= INT_MAX && n <= INT_MAX && K <= INT_MAX, "gemm: dimensions beyond cuBLAS's int");
  if (n == 0 || rows == 0) return;
  const float alpha = 1.0f, beta = 0.0f;
  CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, int(rows), int(n), int(K), &alpha,
                            w_tile, type, int(K), in, type, int(K), &beta, out + row0, CUDA_R_32F,
                            int(M), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace llmpipe::cuda
