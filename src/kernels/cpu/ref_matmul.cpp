#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/cpu/block_decode.h"
#include "kernels/cpu/reference_ops.h"

namespace llmpipe::cpu::ref {

float dot_f32_f32(const float* w, const float* x, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += w[i] * x[i];
  return s;
}

float dot_f16_f32(const uint16_t* w, const float* x, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += f16_to_f32(w[i]) * x[i];
  return s;
}

float dot_bf16_f32(const uint16_t* w, const float* x, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += bf16_to_f32(w[i]) * x[i];
  return s;
}

float dot_q8_0_f32(const BlockQ8_0* w, const float* x, int64_t n) {
  float s = 0;
  for (int64_t b = 0; b < n / kQK; ++b) {
    float block = 0;
    for (int j = 0; j < kQK; ++j) block += float(w[b].qs[j]) * x[b * kQK + j];
    s += f16_to_f32(w[b].d) * block;
  }
  return s;
}

float dot_q4_0_f32(const BlockQ4_0* w, const float* x, int64_t n) {
  float s = 0;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float* xb = x + b * kQK;
    float block = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      block += float(int(w[b].qs[j] & 0x0f) - 8) * xb[j];
      block += float(int(w[b].qs[j] >> 4) - 8) * xb[j + kQK / 2];
    }
    s += f16_to_f32(w[b].d) * block;
  }
  return s;
}

float dot_row_f32(DType type, const void* w, const float* x, int64_t n) {
  switch (type) {
    case DType::F32: return dot_f32_f32(static_cast<const float*>(w), x, n);
    case DType::F16: return dot_f16_f32(static_cast<const uint16_t*>(w), x, n);
    case DType::BF16: return dot_bf16_f32(static_cast<const uint16_t*>(w), x, n);
    case DType::Q8_0: return dot_q8_0_f32(static_cast<const BlockQ8_0*>(w), x, n);
    case DType::Q4_0: return dot_q4_0_f32(static_cast<const BlockQ4_0*>(w), x, n);
    default: {  // block-decoded types: the decoded row times x, in order
      std::vector<float> row(static_cast<size_t>(n));
      decode_blocks_f32(type, w, row.data(), n);
      return dot_f32_f32(row.data(), x, n);
    }
  }
}

void matmul_rows(TensorView out, TensorView in, TensorView w, int64_t m0, int64_t m1) {
  const auto* x = static_cast<const float*>(in.data);
  auto* y = static_cast<float*>(out.data);
  const auto* wb = static_cast<const uint8_t*>(w.data);
  const size_t w_row = w.row_bytes();
  for (int64_t m = m0; m < m1; ++m)
    for (int64_t t = 0; t < in.rows; ++t)
      y[t * out.cols + m] = dot_row_f32(w.dtype, wb + size_t(m) * w_row, x + t * in.cols, in.cols);
}

}  // namespace llmpipe::cpu::ref
