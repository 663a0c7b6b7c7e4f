// The GPU layout of Q8_0 / Q4_0 matmul weights ("split scales"). GGUF blocks are 34 and 18
// bytes, so their quants sit at 2-byte alignment and a decode kernel reading them in place is
// limited to 2-byte loads (~25 % of the HBM floor on an H100). At load time each such weight
// is rearranged on the device (split_weights.cu) into
//   quants [rows, quant_bytes]: every row's quants contiguous, 16-byte aligned (Q8_0: one
//                               byte per weight; Q4_0: a block's 16 bytes as in GGUF, low
//                               nibbles weights 0..15, high nibbles 16..31);
//   scales [rows, K / 32]:      the blocks' F16 scales,
// the same bytes in total. A TensorView in this layout has packed_rows = kSplitScales; only
// the CUDA backend's matmul, tile dequantization and tests read it.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace llmpipe::cuda {

inline constexpr int32_t kSplitScales = 1;  // TensorView::packed_rows of the split layout

struct SplitRows {
  const uint8_t* quants = nullptr;   // [rows, quant_bytes]
  const uint16_t* scales = nullptr;  // [rows, blocks] F16 bits
  int64_t quant_bytes = 0;           // per row
  int64_t blocks = 0;                // per row

  __host__ __device__ const uint8_t* quant_row(int64_t r) const { return quants + r * quant_bytes; }
  __host__ __device__ const uint16_t* scale_row(int64_t r) const { return scales + r * blocks; }
};

// Precondition: t is Q8_0 or Q4_0, cols a multiple of 32.
__host__ __device__ inline int64_t split_quant_bytes(DType t, int64_t cols) {
  return t == DType::Q8_0 ? cols : cols / 2;
}

__host__ __device__ inline SplitRows split_rows(const void* data, DType t, int64_t rows,
                                                int64_t cols) {
  SplitRows s;
  s.quant_bytes = split_quant_bytes(t, cols);
  s.blocks = cols / kQK;
  s.quants = static_cast<const uint8_t*>(data);
  s.scales = reinterpret_cast<const uint16_t*>(s.quants + rows * s.quant_bytes);
  return s;
}

}  // namespace llmpipe::cuda
