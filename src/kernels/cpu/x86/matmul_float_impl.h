// F32 / F16 / BF16 weights x F32 activations, written once for every x86 level in terms of the
// level's struct Simd (simd_<level>.h): weights are widened to F32 in registers (F16 with
// vcvtph2ps, BF16 by a 16-bit shift, both exact) and multiplied with FMA in F32. Register tile:
// Simd::kFloatRows activation rows x Simd::kFloatCols weight rows, so each weight vector loaded
// feeds kFloatRows FMAs and each activation vector kFloatCols FMAs. Any k: the last k % kW
// elements are one masked step where the level has lane masks (AVX-512), a scalar loop after
// the horizontal sum otherwise (AVX2).
//
// Included once per level by x86/<level>/matmul_float_<level>.cpp, after defining
// LLMPIPE_X86_ISA and including simd_<level>.h. Everything here sits in an anonymous namespace
// inside the level's namespace: each level's copy is compiled with its own target flags, and
// internal linkage keeps the linker from merging it with another level's (an AVX-512 copy must
// never run on the AVX2 path).
#pragma once

#include "kernels/cpu/x86/isa_kernels.h"

namespace llmpipe::cpu::LLMPIPE_X86_ISA {

namespace {

// Weight row element types: a vector of kW widened to F32 from p[i] (masked: lanes past the
// mask load as 0), and one element (the scalar tail).
constexpr int64_t kPrefetchBytes = 1024;

struct F32W {
  static constexpr int64_t kBytes = 4;
  template <typename S, typename... M>
  static typename S::V load(const void* p, int64_t i, M... m) {
    return S::load(static_cast<const float*>(p) + i, m...);
  }
  static float at(const void* p, int64_t i) { return static_cast<const float*>(p)[i]; }
};
struct F16W {
  static constexpr int64_t kBytes = 2;
  template <typename S, typename... M>
  static typename S::V load(const void* p, int64_t i, M... m) {
    return S::load(static_cast<const uint16_t*>(p) + i, m...);
  }
  static float at(const void* p, int64_t i) { return _cvtsh_ss(static_cast<const uint16_t*>(p)[i]); }
};
struct BF16W {
  static constexpr int64_t kBytes = 2;
  template <typename S, typename... M>
  static typename S::V load(const void* p, int64_t i, M... m) {
    return S::load_bf16(static_cast<const uint16_t*>(p) + i, m...);
  }
  static float at(const void* p, int64_t i) {
    const uint32_t bits = uint32_t(static_cast<const uint16_t*>(p)[i]) << 16;
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
  }
};

template <typename S, int R, int C, typename W>
void tile(const MatmulArgs& a, int64_t t0, int64_t m0) {
  using V = typename S::V;
  const int64_t k = a.k;
  const void* w[C];
  for (int c = 0; c < C; ++c) w[c] = a.w + size_t(m0 + c) * a.w_row_bytes;
  const float* x = a.x + t0 * a.ldx;
  V acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = S::zero();
  auto step = [&](int64_t i, auto... m) {  // m: none, or the lane mask of the tail
    // Decode streams each weight row from DRAM once: ask for it kPrefetchBytes ahead, a line
    // per row every 64 bytes of it (measured: the hardware prefetcher alone falls behind).
    if constexpr (R == 1) {
      if ((i * W::kBytes) % 64 == 0)
        for (int c = 0; c < C; ++c)
          _mm_prefetch(static_cast<const char*>(w[c]) + i * W::kBytes + kPrefetchBytes, _MM_HINT_T0);
    }
    V wv[C];
    for (int c = 0; c < C; ++c) wv[c] = W::template load<S>(w[c], i, m...);
    for (int r = 0; r < R; ++r) {
      const V xv = S::load(x + r * a.ldx + i, m...);
      for (int c = 0; c < C; ++c) acc[r][c] = S::fma(xv, wv[c], acc[r][c]);
    }
  };
  int64_t i = 0;
  for (; i + S::kW <= k; i += S::kW) step(i);
  if constexpr (S::kMasked) {
    if (i < k) step(i, S::mask(k - i));  // masked lanes load as 0 and add nothing
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) a.y[(t0 + r) * a.ldy + m0 + c] = S::reduce_add(acc[r][c]);
  } else {
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) {
        float s = S::reduce_add(acc[r][c]);
        for (int64_t j = i; j < k; ++j) s += x[r * a.ldx + j] * W::at(w[c], j);
        a.y[(t0 + r) * a.ldy + m0 + c] = s;
      }
  }
}

template <typename S, int R, int C, typename W>
void tail_rows(int rem, const MatmulArgs& a, int64_t t0, int64_t m0) {
  if constexpr (R > 0) {
    if (rem == R) return tile<S, R, C, W>(a, t0, m0);
    tail_rows<S, R - 1, C, W>(rem, a, t0, m0);
  }
}

template <typename S, int C, typename W>
void column_block(const MatmulArgs& a, int64_t c0, int64_t c1, int64_t m) {
  constexpr int kRows = S::kFloatRows;
  int64_t t = c0;
  for (; t + kRows <= c1; t += kRows) tile<S, kRows, C, W>(a, t, m);
  if (t < c1) tail_rows<S, kRows - 1, C, W>(int(c1 - t), a, t, m);
}

template <typename S, typename W>
void matmul_float(const MatmulArgs& a, int64_t m0, int64_t m1) {
  constexpr int kRows = S::kFloatRows, kCols = S::kFloatCols;
  // Activation rows per pass sized to stay in L2 (~512 KiB of F32) while the weights stream.
  int64_t chunk = ((int64_t(1) << 17) / (a.k > 0 ? a.k : 1)) / kRows * kRows;
  if (chunk < kRows) chunk = kRows;
  for (int64_t c0 = 0; c0 < a.n; c0 += chunk) {
    const int64_t c1 = c0 + chunk < a.n ? c0 + chunk : a.n;
    int64_t m = m0;
    for (; m + kCols <= m1; m += kCols) column_block<S, kCols, W>(a, c0, c1, m);
    for (; m < m1; ++m) column_block<S, 1, W>(a, c0, c1, m);
  }
}

}  // namespace

void matmul_f32_f32(const MatmulArgs& a, int64_t m0, int64_t m1) { matmul_float<Simd, F32W>(a, m0, m1); }
void matmul_f16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) { matmul_float<Simd, F16W>(a, m0, m1); }
void matmul_bf16_f32(const MatmulArgs& a, int64_t m0, int64_t m1) { matmul_float<Simd, BF16W>(a, m0, m1); }

}  // namespace llmpipe::cpu::LLMPIPE_X86_ISA
