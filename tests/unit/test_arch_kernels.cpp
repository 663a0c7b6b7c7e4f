// The kernels the architecture variants add (llama_arch.h), every CPU level against a float64
// recomputation of their definition: RoPE in both pair orders with a linear position scale and
// per-frequency divisors, sliding-window attention (transformers' window: positions
// (p - window, p]), row-broadcast bias add, and RMSNorm per head through a reshaped view.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/quantize.h"

namespace llmpipe {
namespace {

using cpu::CpuIsa;

std::vector<float> random_floats(size_t n, std::mt19937& rng, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// A host buffer of the backend holding `v` as [rows, cols] F32.
TensorView upload(Backend& be, std::vector<Buffer>& keep, const std::vector<float>& v, int64_t rows,
                  int64_t cols) {
  keep.push_back(be.alloc(v.size() * sizeof(float)));
  const TensorView t = keep.back().view(DType::F32, rows, cols);
  be.from_host(t, v);
  return t;
}

std::vector<float> host(Backend& be, TensorView t) {
  std::vector<float> v(size_t(t.rows * t.cols));
  be.to_host(v, t);
  return v;
}

// RoPE's definition in float64: pair i of each head (elements (2i, 2i+1), or (i, i + d/2) for
// NEOX) rotated by p * scale * base^(-2i/d) / factor[i].
std::vector<double> rope_f64(const std::vector<float>& x, const std::vector<int32_t>& pos,
                             int64_t cols, const RopeParams& p, const std::vector<float>& factors) {
  std::vector<double> out(x.begin(), x.end());
  const int d = p.head_dim, half = d / 2;
  for (size_t t = 0; t < pos.size(); ++t)
    for (int64_t h = 0; h < cols / d; ++h)
      for (int i = 0; i < half; ++i) {
        double theta =
            pos[t] * double(p.position_scale) * std::pow(double(p.freq_base), -2.0 * i / d);
        if (!factors.empty()) theta /= factors[size_t(i)];
        const size_t base = t * size_t(cols) + size_t(h * d);
        const size_t e0 = base + size_t(p.style == RopeStyle::Neox ? i : 2 * i);
        const size_t e1 = e0 + size_t(p.style == RopeStyle::Neox ? half : 1);
        const double a = x[e0], b = x[e1];
        out[e0] = a * std::cos(theta) - b * std::sin(theta);
        out[e1] = a * std::sin(theta) + b * std::cos(theta);
      }
  return out;
}

TEST(ArchKernels, RopeStylesScaleAndFactorsMatchFloat64) {
  std::mt19937 rng(11);
  const std::vector<int32_t> pos = {0, 1, 7, 130, 2047, 5};
  const std::vector<int32_t> slots(pos.size(), 0);
  const BatchLayout batch{pos, slots, 1};
  for (CpuIsa isa : cpu::supported_cpu_isas())
    for (RopeStyle style : {RopeStyle::Adjacent, RopeStyle::Neox})
      for (int hd : {8, 16, 64, 128})
        for (bool scaled : {false, true}) {
          SCOPED_TRACE(std::string(cpu::cpu_isa_name(isa)) + " hd=" + std::to_string(hd) +
                       (style == RopeStyle::Neox ? " neox" : " adjacent") +
                       (scaled ? " scaled" : ""));
          CpuBackend be({.threads = 3, .isa = isa});
          std::vector<Buffer> keep;
          const int64_t cols = 3 * hd;
          const auto xf = random_floats(pos.size() * size_t(cols), rng, -2, 2);
          const TensorView x = upload(be, keep, xf, int64_t(pos.size()), cols);
          std::vector<float> factors;
          RopeParams p{.head_dim = hd, .freq_base = 500000.0f, .style = style};
          if (scaled) {
            factors = random_floats(size_t(hd / 2), rng, 1, 8);
            p.freq_factors = upload(be, keep, factors, 1, hd / 2);
            p.position_scale = 0.25f;
          }
          be.rope(x, batch, p);
          const auto got = host(be, x);
          const auto want = rope_f64(xf, pos, cols, p, factors);
          // float cos/sin of a double angle and two float products: a few ulps of |x| <= 2.
          for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-6) << i;
        }
}

// Attention's definition in float64 with transformers' sliding window: a token at position p
// of slot s attends to the positions (p - window, p] of s (all of [0, p] without a window).
std::vector<double> attention_f64(const std::vector<float>& q, const std::vector<float>& kc,
                                  const std::vector<float>& vc, const std::vector<int32_t>& pos,
                                  const std::vector<int32_t>& slots, int64_t n_ctx,
                                  AttentionShape s) {
  const int64_t qcols = int64_t(s.n_head) * s.head_dim, kvcols = int64_t(s.n_head_kv) * s.head_dim;
  std::vector<double> out(q.size(), 0.0);
  for (size_t t = 0; t < pos.size(); ++t)
    for (int h = 0; h < s.n_head; ++h) {
      const int64_t kv = int64_t(h / (s.n_head / s.n_head_kv)) * s.head_dim;
      const int64_t lo = s.window > 0 ? std::max<int64_t>(0, pos[t] - s.window + 1) : 0;
      std::vector<double> w;
      double max = -INFINITY, sum = 0;
      for (int64_t j = lo; j <= pos[t]; ++j) {
        double dot = 0;
        for (int d = 0; d < s.head_dim; ++d)
          dot += double(q[t * size_t(qcols) + size_t(h * s.head_dim + d)]) *
                 kc[size_t((slots[t] * n_ctx + j) * kvcols + kv + d)];
        w.push_back(dot / std::sqrt(double(s.head_dim)));
        max = std::max(max, w.back());
      }
      for (auto& x : w) sum += (x = std::exp(x - max));
      for (int64_t j = lo; j <= pos[t]; ++j)
        for (int d = 0; d < s.head_dim; ++d)
          out[t * size_t(qcols) + size_t(h * s.head_dim + d)] +=
              w[size_t(j - lo)] / sum * vc[size_t((slots[t] * n_ctx + j) * kvcols + kv + d)];
    }
  return out;
}

TEST(ArchKernels, SlidingWindowAttentionMatchesFloat64) {
  std::mt19937 rng(12);
  const int64_t n_ctx = 48, n_slots = 2;
  // Positions inside, at and beyond the window, across both slots (a prefill's rows and decode).
  const std::vector<int32_t> pos = {0, 3, 4, 5, 17, 33, 47, 2};
  const std::vector<int32_t> slots = {1, 1, 1, 1, 0, 0, 1, 0};
  const BatchLayout batch{pos, slots, 1};
  for (CpuIsa isa : cpu::supported_cpu_isas())
    for (int hd : {16, 64, 100, 128})
      for (int window : {0, 1, 5, 16, 40}) {
        SCOPED_TRACE(std::string(cpu::cpu_isa_name(isa)) + " hd=" + std::to_string(hd) +
                     " window=" + std::to_string(window));
        const AttentionShape shape{4, 2, hd, window};
        CpuBackend be({.threads = 3, .isa = isa});
        std::vector<Buffer> keep;
        const int64_t kvcols = 2 * hd, qcols = 4 * hd, n = int64_t(pos.size());
        const auto kf = random_floats(size_t(n_slots * n_ctx * kvcols), rng, -2, 2);
        const auto vf = random_floats(size_t(n_slots * n_ctx * kvcols), rng, -2, 2);
        const auto qf = random_floats(size_t(n * qcols), rng, -2, 2);
        const KvView kv{upload(be, keep, kf, n_slots * n_ctx, kvcols),
                        upload(be, keep, vf, n_slots * n_ctx, kvcols), n_ctx};
        const TensorView q = upload(be, keep, qf, n, qcols);
        keep.push_back(be.alloc(qf.size() * sizeof(float)));
        const TensorView out = keep.back().view(DType::F32, n, qcols);
        be.attention(out, q, kv, batch, shape);
        const auto got = host(be, out);
        const auto want = attention_f64(qf, kf, vf, pos, slots, n_ctx, shape);
        // Float sums of up to 48 products of |values| <= 2 and an exp: ~1e-6 of |v| <= 2.
        for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << i;
      }
}

TEST(ArchKernels, AddRowsAndPerHeadRmsNormMatchFloat64) {
  std::mt19937 rng(13);
  for (CpuIsa isa : cpu::supported_cpu_isas())
    for (int64_t rows : {1, 5}) {
      SCOPED_TRACE(std::string(cpu::cpu_isa_name(isa)) + " rows=" + std::to_string(rows));
      CpuBackend be({.threads = 2, .isa = isa});
      std::vector<Buffer> keep;
      const int64_t heads = 6, hd = 32, cols = heads * hd;
      const auto xf = random_floats(size_t(rows * cols), rng, -3, 3);
      const auto bf = random_floats(size_t(cols), rng, -1, 1);
      const auto wf = random_floats(size_t(hd), rng, 0.5, 1.5);
      const TensorView x = upload(be, keep, xf, rows, cols);
      be.add_rows(x, upload(be, keep, bf, 1, cols));
      const auto biased = host(be, x);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          ASSERT_EQ(biased[size_t(r * cols + c)], xf[size_t(r * cols + c)] + bf[size_t(c)]);
      // Qwen3's q/k norm: [rows, heads * hd] seen as [rows * heads, hd], in place.
      const TensorView xh = x.reshaped(rows * heads, hd);
      be.rms_norm(xh, xh, upload(be, keep, wf, 1, hd), 1e-6f);
      const auto got = host(be, x);
      for (int64_t r = 0; r < rows * heads; ++r) {
        double ss = 0;
        for (int64_t d = 0; d < hd; ++d)
          ss += double(biased[size_t(r * hd + d)]) * biased[size_t(r * hd + d)];
        const double scale = 1 / std::sqrt(ss / double(hd) + 1e-6);
        for (int64_t d = 0; d < hd; ++d)
          ASSERT_NEAR(got[size_t(r * hd + d)], biased[size_t(r * hd + d)] * scale * wf[size_t(d)],
                      2e-6)
              << r << " " << d;
      }
    }
  CpuBackend be({.threads = 1});
  std::vector<Buffer> keep;
  const TensorView x = upload(be, keep, std::vector<float>(8, 0.0f), 2, 4);
  EXPECT_THROW(be.add_rows(x, upload(be, keep, std::vector<float>(3, 0.0f), 1, 3)), Error);
}

}  // namespace
}  // namespace llmpipe
