// Prefill products with F32 / F16 / BF16 weights (>= kPanelMinTokens activation rows), the way
// BLAS libraries multiply: a panel of P = 2 * kW weight rows is converted to F32 once and laid
// out column by column (panel[i * P + j] = w[m + j][i]), then every tile of kPanelTokens
// activation rows runs over it as outer products: per column i, two panel vectors (P weights)
// and one broadcast x[t][i] per activation row feed 2 FMAs each, into accumulators that are
// already the outputs (no horizontal sums, no per-tile conversions).
//
// Why: the row tiles of matmul_float_impl.h (vectors along k) reload and reconvert their
// weight vectors for every 4 activation rows and need 8 loads per 16 FMAs from L2; they reached
// ~90-100 GFLOP/s on 2 AVX-512 cores (bench/KERNELS.md). Here a tile needs kPanelTokens + 2
// loads per 2 * kPanelTokens FMAs, the panel (k * P floats) stays in L2, and each weight is
// converted once per call.
//
// Included by matmul_float_impl.h after its weight element types (F32W, F16W, BF16W), into
// the same level namespace and anonymous namespace (internal linkage per level, as there).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace llmpipe::cpu::LLMPIPE_X86_ISA {

namespace {

// Activation rows from which the panel path is taken. Below it the conversion and transposition
// of the panel (one pass over P x k weights) is not paid back.
constexpr int64_t kPanelMinTokens = 16;

// A per-thread, 64-byte aligned scratch of at least `floats` floats (the pool's threads are
// persistent, so it is allocated once per size).
inline float* panel_scratch(int64_t floats) {
  thread_local std::vector<float> buffer;
  const size_t want = size_t(floats) + 16;
  if (buffer.size() < want) buffer.resize(want);
  const auto address = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + ((64 - address % 64) % 64) / sizeof(float);
}

// panel[i * P + j] = weight row m + j, element i, in F32, for i < k and j < rows; rows past
// `rows` (the last panel of a thread's range) are 0. Whole kW x kW blocks are converted and
// transposed in registers; the ragged edges (the last k % kW columns, a partial panel) go
// through a small buffer, an element at a time.
template <typename S, typename W>
void pack_panel(const MatmulArgs& a, int64_t m, int rows, float* panel) {
  using V = typename S::V;
  constexpr int P = 2 * S::kW, kW = S::kW;
  alignas(64) float block[P][kW];
  for (int j = rows; j < P; ++j)
    for (int i = 0; i < kW; ++i) block[j][i] = 0.0f;
  for (int64_t i0 = 0; i0 < a.k; i0 += kW) {
    const int width = int(std::min<int64_t>(kW, a.k - i0));
    if (width == kW && rows == P) {
      for (int h = 0; h < 2; ++h) {  // rows [h kW, h kW + kW)
        V v[kW];
        for (int j = 0; j < kW; ++j)
          v[j] = W::template load<S>(a.w + size_t(m + h * kW + j) * a.w_row_bytes, i0);
        S::transpose(v);
        for (int c = 0; c < kW; ++c) S::store(panel + (i0 + c) * P + h * kW, v[c]);
      }
      continue;
    }
    for (int j = 0; j < rows; ++j) {
      const void* row = a.w + size_t(m + j) * a.w_row_bytes;
      if (width == kW)
        S::store(block[j], W::template load<S>(row, i0));
      else
        for (int i = 0; i < width; ++i) block[j][i] = W::at(row, i0 + i);
    }
    for (int i = 0; i < width; ++i)
      for (int j = 0; j < P; ++j) panel[(i0 + i) * P + j] = block[j][i];
  }
}

// Outputs [t0, t0 + R) x [m, m + cols) from the panel: y[t][m + j] = Σ_i x[t][i] panel[i][j].
template <typename S, int R>
void panel_tile(const MatmulArgs& a, const float* panel, int64_t t0, int64_t m, int cols) {
  using V = typename S::V;
  constexpr int P = 2 * S::kW;
  V acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = S::zero();
  const float* x = a.x + t0 * a.ldx;
  for (int64_t i = 0; i < a.k; ++i) {
    const V w0 = S::load(panel + i * P), w1 = S::load(panel + i * P + S::kW);
    for (int r = 0; r < R; ++r) {
      const V xr = S::set1(x[r * a.ldx + i]);
      acc[r][0] = S::fma(xr, w0, acc[r][0]);
      acc[r][1] = S::fma(xr, w1, acc[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    float* y = a.y + (t0 + r) * a.ldy + m;
    if (cols == P) {
      S::store(y, acc[r][0]);
      S::store(y + S::kW, acc[r][1]);
    } else {  // the last panel of the range: only its real rows are this thread's outputs
      alignas(64) float out[P];
      S::store(out, acc[r][0]);
      S::store(out + S::kW, acc[r][1]);
      for (int j = 0; j < cols; ++j) y[j] = out[j];
    }
  }
}

// The last n % kPanelTokens activation rows: a tile of exactly `rem` rows.
template <typename S, int R>
void panel_tail(int rem, const MatmulArgs& a, const float* panel, int64_t t0, int64_t m, int cols) {
  if constexpr (R > 0) {
    if (rem == R) return panel_tile<S, R>(a, panel, t0, m, cols);
    panel_tail<S, R - 1>(rem, a, panel, t0, m, cols);
  }
}

// Output columns [m0, m1) of y = x · wᵀ for all a.n activation rows.
template <typename S, typename W>
void matmul_panels(const MatmulArgs& a, int64_t m0, int64_t m1) {
  constexpr int P = 2 * S::kW, R = S::kPanelTokens;
  float* panel = panel_scratch(a.k * P);  // [k, P]
  for (int64_t m = m0; m < m1; m += P) {
    const int cols = int(std::min<int64_t>(P, m1 - m));
    pack_panel<S, W>(a, m, cols, panel);
    int64_t t = 0;
    for (; t + R <= a.n; t += R) panel_tile<S, R>(a, panel, t, m, cols);
    if (t < a.n) panel_tail<S, R - 1>(int(a.n - t), a, panel, t, m, cols);
  }
}

}  // namespace

}  // namespace llmpipe::cpu::LLMPIPE_X86_ISA
