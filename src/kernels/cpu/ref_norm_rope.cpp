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

void rope_f32(TensorView x, const BatchLayout& batch, const RopeParams& params, int64_t r0,
              int64_t r1) {
  const int head_dim = params.head_dim, half = head_dim / 2;
  const int64_t heads = x.cols / head_dim;
  const auto* factors = static_cast<const float*>(params.freq_factors.data);
  // Element offsets of pair i within a head: (2i, 2i+1) or (i, i + half).
  const bool neox = params.style == RopeStyle::Neox;
  for (int64_t r = r0; r < r1; ++r) {
    const double pos = double(batch.positions[size_t(r)]) * double(params.position_scale);
    float* row = static_cast<float*>(x.data) + r * x.cols;
    for (int i = 0; i < half; ++i) {
      // theta computed in double: positions reach the context length (thousands).
      double theta = pos * std::pow(double(params.freq_base), -2.0 * i / head_dim);
      if (factors) theta /= double(factors[i]);
      const float c = float(std::cos(theta)), s = float(std::sin(theta));
      const int e0 = neox ? i : 2 * i, e1 = neox ? i + half : 2 * i + 1;
      for (int64_t h = 0; h < heads; ++h) {
        float* p = row + h * head_dim;
        const float a = p[e0], b = p[e1];
        p[e0] = a * c - b * s;
        p[e1] = a * s + b * c;
      }
    }
  }
}

}  // namespace llmpipe::cpu::ref
