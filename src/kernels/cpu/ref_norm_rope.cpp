#include <cmath>

#include "kernels/cpu/reference_ops.h"

namespace llmpipe::cpu::ref {

void rms_norm_f32(TensorView out, TensorView in, const float* weight, float eps, int64_t r0,
                  int64_t r1) {
  const int64_t d = in.cols;
  for (int64_t r = r0; r < r1; ++r) {
    const float* x = static_cast<const float*>(in.data) + r * d;
    float* y = static_cast<float*>(out.data) + r * d;
    float ss = 0;
    for (int64_t i = 0; i < d; ++i) ss += x[i] * x[i];
    const float scale = 1.0f / std::sqrt(ss / float(d) + eps);
    for (int64_t i = 0; i < d; ++i) y[i] = x[i] * scale * weight[i];
  }
}

void rope_f32(TensorView x, const BatchLayout& batch, int head_dim, float freq_base, int64_t r0,
              int64_t r1) {
  const int64_t heads = x.cols / head_dim;
  for (int64_t r = r0; r < r1; ++r) {
    const double pos = batch.positions[size_t(r)];
    float* row = static_cast<float*>(x.data) + r * x.cols;
    for (int i = 0; i < head_dim / 2; ++i) {
      // theta computed in double: positions reach the context length (thousands).
      const double theta = pos * std::pow(double(freq_base), -2.0 * i / head_dim);
      const float c = float(std::cos(theta)), s = float(std::sin(theta));
      for (int64_t h = 0; h < heads; ++h) {
        float* p = row + h * head_dim + 2 * i;
        const float a = p[0], b = p[1];
        p[0] = a * c - b * s;
        p[1] = a * s + b * c;
      }
    }
  }
}

}  // namespace llmpipe::cpu::ref
