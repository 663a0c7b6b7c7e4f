// get_rows: token embedding lookup (any table dtype) and row selection of F32 activations.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.cuh"

namespace llmpipe::cuda {

namespace {

// One block per output row; threads stride over the columns (coalesced F32 stores).
template <DType T>
__global__ void get_rows_kernel(float* out, const uint8_t* table, size_t table_row_bytes,
                                const int32_t* ids, int64_t cols) {
  const int64_t r = blockIdx.x;
  const void* row = table + size_t(ids[r]) * table_row_bytes;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    out[r * cols + c] = load_element<T>(row, c);
}

}  // namespace

void get_rows_f32(TensorView out, TensorView table, const int32_t* ids, cudaStream_t stream) {
  if (out.rows == 0) return;
  dispatch_dtype(table.dtype, [&]<DType T>() {
    get_rows_kernel<T><<<unsigned(out.rows), 256, 0, stream>>>(
        static_cast<float*>(out.data), static_cast<const uint8_t*>(table.data),
        table.row_bytes(), ids, out.cols);
  });
  CUDA_CHECK_LAUNCH();
}

}  // namespace llmpipe::cuda
