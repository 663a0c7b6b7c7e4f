// Element-wise ops and RMS norm, written once for every x86 level in terms of the level's
// struct Simd (simd_<level>.h). Sums are F32 like the reference, in a different order (kW
// lanes), so results agree to float rounding; silu uses Simd::exp (~2e-7 relative).
//
// Included once per level by x86/<level>/ops_<level>.cpp; anonymous namespace inside the
// level's namespace for the reason given in matmul_float_impl.h.
#pragma once

#include <cmath>

#include "kernels/cpu/x86/isa_kernels.h"

namespace llmpipe::cpu::LLMPIPE_X86_ISA {

namespace {

// vec(i, m...) on each kW-element vector of [0, n), then the tail: one masked vector where the
// level has lane masks (vec(i, mask)), else scalar(i) for each remaining element.
template <typename S, typename Vec, typename Scalar>
inline void for_each_vector(int64_t n, Vec&& vec, Scalar&& scalar) {
  int64_t i = 0;
  for (; i + S::kW <= n; i += S::kW) vec(i);
  if constexpr (S::kMasked) {
    if (i < n) vec(i, S::mask(n - i));
  } else {
    for (; i < n; ++i) scalar(i);
  }
}

template <typename S>
void rms_norm(TensorView out, TensorView in, const float* weight, float eps, int64_t r0,
              int64_t r1) {
  using V = typename S::V;
  const int64_t d = in.cols;
  for (int64_t r = r0; r < r1; ++r) {
    const float* x = static_cast<const float*>(in.data) + r * d;
    float* y = static_cast<float*>(out.data) + r * d;
    V ss = S::zero();
    auto square = [&](int64_t i, auto... m) {
      const V v = S::load(x + i, m...);
      ss = S::fma(v, v, ss);
    };
    int64_t i = 0;
    for (; i + S::kW <= d; i += S::kW) square(i);
    float sum;
    if constexpr (S::kMasked) {
      if (i < d) square(i, S::mask(d - i));
      sum = S::reduce_add(ss);
    } else {
      sum = S::reduce_add(ss);
      for (; i < d; ++i) sum += x[i] * x[i];
    }
    const float scale = 1.0f / std::sqrt(sum / float(d) + eps);
    const V sv = S::set1(scale);
    for_each_vector<S>(
        d,
        [&](int64_t i, auto... m) {
          S::store(y + i, S::mul(S::mul(S::load(x + i, m...), sv), S::load(weight + i, m...)),
                   m...);
        },
        [&](int64_t i) { y[i] = x[i] * scale * weight[i]; });
  }
}

// The tail goes through the vector code too (a masked vector, or a padded copy where the level
// has no masks), never std::exp: Simd::exp and std::exp differ in the last bits, and which
// elements land in the tail depends on how the caller splits the array over threads, i.e. on
// the batch size, so a scalar tail made results batch-dependent on AVX2.
template <typename S>
void swiglu(float* gate, const float* up, int64_t n) {
  using V = typename S::V;
  const V one = S::set1(1.0f);
  auto op = [&](float* g_out, const float* g_in, const float* u_in, auto... m) {
    const V g = S::load(g_in, m...);
    const V e = S::exp(S::sub(S::zero(), g));
    S::store(g_out, S::mul(S::div(g, S::add(one, e)), S::load(u_in, m...)), m...);
  };
  int64_t i = 0;
  for (; i + S::kW <= n; i += S::kW) op(gate + i, gate + i, up + i);
  if (i == n) return;
  if constexpr (S::kMasked) {
    op(gate + i, gate + i, up + i, S::mask(n - i));
  } else {
    float g[S::kW] = {}, u[S::kW] = {};
    for (int64_t j = i; j < n; ++j) g[j - i] = gate[j], u[j - i] = up[j];
    op(g, g, u);
    for (int64_t j = i; j < n; ++j) gate[j] = g[j - i];
  }
}

template <typename S>
void add(float* x, const float* y, int64_t n) {
  for_each_vector<S>(
      n,
      [&](int64_t i, auto... m) {
        S::store(x + i, S::add(S::load(x + i, m...), S::load(y + i, m...)), m...);
      },
      [&](int64_t i) { x[i] += y[i]; });
}

}  // namespace

void rms_norm_f32(TensorView out, TensorView in, const float* weight, float eps, int64_t r0,
                  int64_t r1) {
  rms_norm<Simd>(out, in, weight, eps, r0, r1);
}
void swiglu_f32(float* gate, const float* up, int64_t n) {
  swiglu<Simd>(gate, up, n);
}
void add_f32(float* x, const float* y, int64_t n) {
  add<Simd>(x, y, n);
}

}  // namespace llmpipe::cpu::LLMPIPE_X86_ISA
