// The fast CPU kernels against the scalar reference (reference_ops.h, quantize.h), on random
// inputs, for every instruction-set level this machine supports (forced through
// CpuBackendOptions::isa), 1 and 3 threads, and ragged shapes (rows not multiples of the tiles,
// blocks or threads). Tolerances, relative to the sum of |products| S = Σ|w·x| of each output:
//   F32/F16/BF16 weights: |fast − ref| <= 1e-5·S (F32 products of exactly widened weights; only
//     the summation order differs).
//   Q4_0/Q8_0 weights: the fast kernels quantize activations to Q8_0 (as llama.cpp does). Against
//     the reference applied to those dequantized activations x': |fast − ref(x')| <= 1e-5·S'; and
//     against the reference on x: |fast − ref(x)| <= Σ_j |w_j|·d_j/2 + 1e-5·S (d_j: the Q8_0 step
//     of x's block holding j), which is exactly the activation rounding.
//   Attention: <= 1e-5·max|V| with an F32 cache; <= 1e-3·max|V| with F16 (the softmax weights are
//     rounded to F16 like the reference, but a weight within float noise of a rounding boundary
//     may round the other way: one F16 ulp, 2^-11 relative).
//   rms_norm, swiglu, add: 1e-5 relative.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/cpu/cpu_backend.h"
#include "test_helpers.h"
#include "kernels/cpu/cpu_isa.h"
#include "kernels/cpu/packed_weights.h"
#include "kernels/cpu/quantize.h"
#include "kernels/cpu/reference_ops.h"
#include "runtime/sampler.h"

namespace llmpipe {
namespace {

using cpu::CpuIsa;

std::vector<float> random_floats(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Host bytes of an [m, k] weight of type `type` quantized from random floats.
std::vector<uint8_t> random_weight(DType type, int64_t m, int64_t k, std::mt19937& rng) {
  const auto f = random_floats(size_t(m * k), rng);
  const size_t rb = dtype_row_bytes(type, k);
  std::vector<uint8_t> w(rb * size_t(m));
  for (int64_t r = 0; r < m; ++r) cpu::quantize_row(type, f.data() + r * k, w.data() + r * rb, k);
  return w;
}

TensorView upload(CpuBackend& be, std::vector<Buffer>& keep, const std::vector<float>& v,
                  int64_t rows, int64_t cols) {
  keep.push_back(be.alloc(v.size() * sizeof(float)));
  TensorView t = keep.back().view(DType::F32, rows, cols);
  std::memcpy(t.data, v.data(), v.size() * sizeof(float));
  return t;
}

std::vector<float> host(const TensorView& t) {
  const auto* p = static_cast<const float*>(t.data);
  return {p, p + t.rows * t.cols};
}

std::string label(CpuIsa isa, int threads) {
  return std::string(cpu::cpu_isa_name(isa)) + ", " + std::to_string(threads) + " threads";
}

TEST(CpuKernelIsa, DetectsAndForcesLevels) {
  const auto levels = cpu::supported_cpu_isas();
  ASSERT_FALSE(levels.empty());
  EXPECT_EQ(levels.front(), CpuIsa::Scalar);
  EXPECT_EQ(levels.back(), cpu::detect_cpu_isa());
  for (CpuIsa isa : levels) {
    EXPECT_EQ(cpu::choose_cpu_isa(isa), isa);
    EXPECT_EQ(cpu::cpu_isa_from_name(cpu::cpu_isa_name(isa)), isa);
    CpuBackend be({.threads = 1, .isa = isa});
    EXPECT_EQ(be.isa(), isa);
    EXPECT_NE(be.name().find(cpu::cpu_isa_name(isa)), std::string::npos);
  }
  EXPECT_FALSE(cpu::cpu_isa_from_name("sse9"));
  if (!cpu::cpu_isa_supported(CpuIsa::Avx512)) {
    EXPECT_THROW(cpu::choose_cpu_isa(CpuIsa::Avx512), Error);
  }
}

TEST(CpuKernelIsa, EnvironmentVariableForcesLevel) {
  const char* old = std::getenv("LLMPIPE_CPU_ISA");
  const std::string saved = old ? old : "";
  setenv("LLMPIPE_CPU_ISA", "scalar", 1);
  EXPECT_EQ(cpu::choose_cpu_isa(std::nullopt), CpuIsa::Scalar);
  setenv("LLMPIPE_CPU_ISA", "bogus", 1);
  EXPECT_THROW(cpu::choose_cpu_isa(std::nullopt), Error);
  if (old) setenv("LLMPIPE_CPU_ISA", saved.c_str(), 1);
  else unsetenv("LLMPIPE_CPU_ISA");
}

// The activations the SIMD kernels multiply: Q8_0 blocks as ggml's (d = amax / 127 stored as
// F16, codes = x / d), but with ties rounded to even as the kernels' vector conversions do
// (like llama.cpp's SIMD quantizers), where the GGUF file quantizer (quantize_row_q8_0)
// rounds them away from zero. xq: the dequantized values; step: each value's d.
void kernel_q8_activations(const float* x, int64_t k, float* xq, float* step) {
  for (int64_t b = 0; b < k / kQK; ++b) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[b * kQK + j]));
    const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    const float stored = f16_to_f32(f32_to_f16(d));
    for (int j = 0; j < kQK; ++j) {
      const int64_t i = b * kQK + j;
      xq[i] = std::nearbyint(x[i] * id) * stored;  // default rounding mode: ties to even
      step[i] = stored;
    }
  }
}

// Compares backend.matmul for one dtype with the reference over ragged shapes.
void check_matmul(DType type, std::initializer_list<int64_t> ks) {
  const bool quantized = type == DType::Q4_0 || type == DType::Q8_0;
  std::mt19937 rng(1234);
  for (CpuIsa isa : cpu::supported_cpu_isas())
    for (int threads : {1, 3}) {
      CpuBackend be({.threads = threads, .isa = isa});
      for (int64_t k : ks)
        // 300 rows: more than one chunk of the backend's row split, so 3 threads share it
        // (the last chunk ragged, mid packed-group pair).
        for (int64_t m : {1, 5, 17, 70, 300})
          for (int64_t n : {1, 2, 3, 7, 16, 33}) {
            SCOPED_TRACE(label(isa, threads) + ", " + std::string(dtype_name(type)) + " n=" +
                         std::to_string(n) + " m=" + std::to_string(m) + " k=" + std::to_string(k));
            std::vector<Buffer> keep;
            auto wbytes = random_weight(type, m, k, rng);
            const TensorView w{wbytes.data(), type, m, k};
            const auto xf = random_floats(size_t(n * k), rng);
            const TensorView x = upload(be, keep, xf, n, k);
            keep.push_back(be.alloc(size_t(n * m) * sizeof(float)));
            const TensorView y = keep.back().view(DType::F32, n, m);
            be.matmul(y, x, w);
            const auto got = host(y);
            // The same weight as the backend places it by default (every type on AVX-512:
            // repacked into interleaved rows, multiplied by the packed kernels), held to the same
            // bounds.
            const TensorView wp = be.place_weight(type, m, k, wbytes.data(), keep, WeightUse::Matmul);
            if (isa == CpuIsa::Avx512) {
              ASSERT_EQ(wp.packed_rows, cpu::kPackRows);
              // Packed rows are interleaved: a row lookup must be refused, not read garbage.
              keep.push_back(be.alloc(size_t(k) * sizeof(float)));
              const TensorView row = keep.back().view(DType::F32, 1, k);
              const int32_t id = 0;
              test::expect_error([&] { be.get_rows(row, wp, std::span(&id, 1)); },
                                 {"get_rows: the table is packed for matmul"});
            }
            be.matmul(y, x, wp);
            const auto got_placed = host(y);

            // The activations the quantized kernels actually multiply (scalar uses x as is).
            std::vector<float> xq = xf, dstep(size_t(n * k), 0.0f);
            if (quantized && isa != CpuIsa::Scalar)
              for (int64_t t = 0; t < n; ++t)
                kernel_q8_activations(xf.data() + t * k, k, xq.data() + t * k, dstep.data() + t * k);
            std::vector<float> wf(static_cast<size_t>(k));
            for (int64_t r = 0; r < m; ++r) {
              cpu::dequantize_row_f32(type, w.rows_slice(r, 1).data, wf.data(), k);
              for (int64_t t = 0; t < n; ++t) {
                const float* xr = xq.data() + t * k;
                const float* x0 = xf.data() + t * k;
                double s = 0, s0 = 0, step = 0;
                for (int64_t j = 0; j < k; ++j) {
                  s += std::fabs(double(wf[size_t(j)]) * xr[j]);
                  s0 += std::fabs(double(wf[size_t(j)]) * x0[j]);
                  step += std::fabs(wf[size_t(j)]) * dstep[size_t(t * k + j)] / 2;
                }
                const float want = cpu::ref::dot_row_f32(type, w.rows_slice(r, 1).data, xr, k);
                const float want0 = cpu::ref::dot_row_f32(type, w.rows_slice(r, 1).data, x0, k);
                for (const auto* out : {&got, &got_placed}) {
                  const float g = (*out)[size_t(t * m + r)];
                  const char* which = out == &got ? "row-major" : "as placed";
                  ASSERT_NEAR(g, want, 1e-5 * s + 1e-30) << which << " row " << r << " token " << t;
                  ASSERT_NEAR(g, want0, step + 1e-5 * s0 + 1e-30) << which << " vs f32 activations";
                }
              }
            }
          }
    }
}

// A row's result must not depend on which other rows share the product (the scheduler puts
// any mix of sequences into one forward pass and promises token-identical results for any
// batch): every row of a 33-row product, bit for bit, equals the same row multiplied alone,
// for every weight type, kernel level and placement (row-major and as placed).
TEST(CpuKernelMatmul, RowResultsDoNotDependOnTheBatch) {
  std::mt19937 rng(99);
  const int64_t n = 33, m = 70, k = 96;
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0})
    for (CpuIsa isa : cpu::supported_cpu_isas()) {
      CpuBackend be({.threads = 2, .isa = isa});
      std::vector<Buffer> keep;
      auto wbytes = random_weight(type, m, k, rng);
      const TensorView row_major{wbytes.data(), type, m, k};
      const TensorView placed = be.place_weight(type, m, k, wbytes.data(), keep, WeightUse::Matmul);
      const auto xf = random_floats(size_t(n * k), rng);
      const TensorView x = upload(be, keep, xf, n, k);
      keep.push_back(be.alloc(size_t(n * m) * sizeof(float)));
      const TensorView y = keep.back().view(DType::F32, n, m);
      for (const TensorView& w : {row_major, placed}) {
        SCOPED_TRACE(std::string(dtype_name(type)) + ", " + std::string(cpu::cpu_isa_name(isa)) +
                     (w.packed_rows ? ", packed" : ", row-major"));
        be.matmul(y, x, w);
        const auto batch = host(y);
        for (int64_t t = 0; t < n; ++t) {
          be.matmul(y.rows_slice(0, 1), x.rows_slice(t, 1), w);
          ASSERT_EQ(0, std::memcmp(y.data, batch.data() + t * m, size_t(m) * sizeof(float)))
              << "row " << t;
        }
      }
    }
}

// The element-wise ops likewise: which elements a thread's chunk leaves for a level's tail
// depends on the batch (the ops run over rows x cols elements split between threads), so a
// tail computed differently from the vector body (std::exp against Simd::exp, on AVX2) made
// swiglu, and so whole forward passes, batch-dependent. Every row of a 7-row swiglu, rows of
// 172 (not a multiple of any vector width), equals the row computed alone.
TEST(CpuKernelOps, ElementwiseRowsDoNotDependOnTheBatch) {
  std::mt19937 rng(7);
  const int64_t n = 7, d = 172;
  const auto gf = random_floats(size_t(n * d), rng), uf = random_floats(size_t(n * d), rng);
  for (CpuIsa isa : cpu::supported_cpu_isas()) {
    SCOPED_TRACE(std::string(cpu::cpu_isa_name(isa)));
    CpuBackend be({.threads = 2, .isa = isa});
    std::vector<Buffer> keep;
    const TensorView g = upload(be, keep, gf, n, d), u = upload(be, keep, uf, n, d);
    be.swiglu(g, u);
    const auto batch = host(g);
    for (int64_t t = 0; t < n; ++t) {
      const std::vector<float> g1(gf.begin() + t * d, gf.begin() + (t + 1) * d),
          u1(uf.begin() + t * d, uf.begin() + (t + 1) * d);
      const TensorView gt = upload(be, keep, g1, 1, d), ut = upload(be, keep, u1, 1, d);
      be.swiglu(gt, ut);
      ASSERT_EQ(0, std::memcmp(gt.data, batch.data() + t * d, size_t(d) * sizeof(float)))
          << "row " << t;
    }
  }
}

// The packed float layout round-trips: every row unpacked equals the row that was packed,
// including a last group padded past the weight's end.
TEST(CpuKernelWeights, PackedFloatRowsRoundTrip) {
  std::mt19937 rng(5);
  const int64_t m = 37, k = 29;  // three groups, the last with 5 rows; any k
  for (DType type : {DType::F32, DType::F16, DType::BF16}) {
    const auto w = random_weight(type, m, k, rng);
    std::vector<uint8_t> packed(cpu::packed_bytes(type, m, k));
    cpu::pack_row_groups(type, w.data(), m, k, packed.data(), 0, (m + cpu::kPackRows - 1) / cpu::kPackRows);
    const size_t rb = dtype_row_bytes(type, k);
    std::vector<uint8_t> row(rb);
    for (int64_t r = 0; r < m; ++r) {
      cpu::unpack_row(type, packed.data(), k, r, row.data());
      ASSERT_EQ(0, std::memcmp(row.data(), w.data() + size_t(r) * rb, rb)) << dtype_name(type) << " row " << r;
    }
  }
}

TEST(CpuKernelMatmul, F32) { check_matmul(DType::F32, {1, 7, 33, 100, 257}); }
TEST(CpuKernelMatmul, F16) { check_matmul(DType::F16, {1, 7, 33, 100, 257}); }
TEST(CpuKernelMatmul, BF16) { check_matmul(DType::BF16, {1, 7, 33, 100, 257}); }
TEST(CpuKernelMatmul, Q8_0) { check_matmul(DType::Q8_0, {32, 96, 160, 320}); }
TEST(CpuKernelMatmul, Q4_0) { check_matmul(DType::Q4_0, {32, 96, 160, 320}); }

// The quantized activations are ggml's Q8_0 blocks (ties to even, kernel_q8_activations): the
// fast kernels on a weight of identity-like rows (one 1 per row, stored as 127 · f16(1/127))
// return the dequantized activations times that stored diagonal, to float rounding.
TEST(CpuKernelMatmul, QuantizedActivationsMatchQ8_0) {
  std::mt19937 rng(7);
  const int64_t k = 64;
  std::vector<float> eye(size_t(k * k), 0.0f);
  for (int64_t i = 0; i < k; ++i) eye[size_t(i * k + i)] = 1.0f;
  std::vector<uint8_t> w(dtype_row_bytes(DType::Q8_0, k) * size_t(k));
  for (int64_t r = 0; r < k; ++r)
    cpu::quantize_row(DType::Q8_0, eye.data() + r * k, w.data() + r * dtype_row_bytes(DType::Q8_0, k), k);
  const auto xf = random_floats(size_t(k), rng, -3, 3);
  std::vector<float> want(static_cast<size_t>(k)), step(static_cast<size_t>(k));
  kernel_q8_activations(xf.data(), k, want.data(), step.data());
  for (CpuIsa isa : cpu::supported_cpu_isas()) {
    if (isa == CpuIsa::Scalar) continue;
    CpuBackend be({.threads = 1, .isa = isa});
    std::vector<Buffer> keep;
    const TensorView x = upload(be, keep, xf, 1, k);
    keep.push_back(be.alloc(size_t(k) * sizeof(float)));
    const TensorView y = keep.back().view(DType::F32, 1, k);
    be.matmul(y, x, {w.data(), DType::Q8_0, k, k});
    const auto got = host(y);
    const float diag = 127.0f * f16_to_f32(f32_to_f16(1.0f / 127.0f));
    for (int64_t i = 0; i < k; ++i)
      EXPECT_NEAR(got[size_t(i)], diag * want[size_t(i)], 1e-6 * std::fabs(want[size_t(i)]))
          << cpu::cpu_isa_name(isa) << " " << i;
  }
}

void check_attention(DType kv_type, int head_dim, int n_head, int n_head_kv) {
  std::mt19937 rng(99);
  const int64_t n_ctx = 40, n_slots = 2, kv_cols = int64_t(n_head_kv) * head_dim;
  const AttentionShape shape{n_head, n_head_kv, head_dim};
  // Prefill of 33 tokens in slot 1, then a mixed decode batch over both slots.
  std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> batches;
  {
    std::vector<int32_t> pos, slot;
    for (int i = 0; i < 33; ++i) pos.push_back(i), slot.push_back(1);
    batches.push_back({pos, slot});
    batches.push_back({{0, 39, 16, 5}, {0, 0, 1, 1}});
  }
  const double tol = kv_type == DType::F16 ? 1e-3 : 1e-5;
  for (CpuIsa isa : cpu::supported_cpu_isas())
    for (int threads : {1, 3}) {
      CpuBackend be({.threads = threads, .isa = isa});
      std::vector<Buffer> keep;
      // A cache filled with random values (every position valid).
      const auto kf = random_floats(size_t(n_slots * n_ctx * kv_cols), rng, -2, 2);
      const auto vf = random_floats(size_t(n_slots * n_ctx * kv_cols), rng, -2, 2);
      const size_t elt = kv_type == DType::F16 ? 2 : 4;
      keep.push_back(be.alloc(kf.size() * elt));
      keep.push_back(be.alloc(vf.size() * elt));
      KvView kv{keep[0].view(kv_type, n_slots * n_ctx, kv_cols), keep[1].view(kv_type, n_slots * n_ctx, kv_cols), n_ctx};
      for (int64_t r = 0; r < n_slots * n_ctx; ++r) {
        cpu::quantize_row(kv_type, kf.data() + r * kv_cols, kv.k.rows_slice(r, 1).data, kv_cols);
        cpu::quantize_row(kv_type, vf.data() + r * kv_cols, kv.v.rows_slice(r, 1).data, kv_cols);
      }
      float vmax = 0;
      for (float v : vf) vmax = std::max(vmax, std::fabs(v));
      for (auto& [pos, slot] : batches) {
        SCOPED_TRACE(label(isa, threads) + ", kv " + std::string(dtype_name(kv_type)) + " hd=" +
                     std::to_string(head_dim) + " tokens=" + std::to_string(pos.size()));
        const int64_t n = int64_t(pos.size());
        const BatchLayout batch{pos, slot, 1};
        const auto qf = random_floats(size_t(n * n_head * head_dim), rng, -2, 2);
        const TensorView q = upload(be, keep, qf, n, int64_t(n_head) * head_dim);
        keep.push_back(be.alloc(qf.size() * sizeof(float)));
        const TensorView out = keep.back().view(DType::F32, n, int64_t(n_head) * head_dim);
        be.attention(out, q, kv, batch, shape);
        std::vector<float> want(qf.size());
        cpu::ref::attention_f32({want.data(), DType::F32, n, int64_t(n_head) * head_dim}, q, kv, batch,
                                shape, 0, n * n_head);
        const auto got = host(out);
        for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], tol * vmax) << i;
      }
    }
}

// head_dim 8 (stories260K), 100 (OpenLLaMA-3B), 64, 128 and odd sizes: the AVX-512 kernel has
// register versions for 1, 2, 4, 7 and 8 chunks of 16 and a generic one (48, 200).
TEST(CpuKernelAttention, F32Cache) {
  for (int hd : {8, 20, 48, 64, 100, 128, 200}) check_attention(DType::F32, hd, 4, 2);
  check_attention(DType::F32, 100, 4, 4);
}
TEST(CpuKernelAttention, F16Cache) {
  for (int hd : {8, 20, 48, 64, 100, 128, 200}) check_attention(DType::F16, hd, 4, 2);
  check_attention(DType::F16, 100, 4, 4);
}

TEST(CpuKernelOps, RmsNormSwigluAdd) {
  std::mt19937 rng(5);
  for (CpuIsa isa : cpu::supported_cpu_isas())
    for (int threads : {1, 3})
      for (int64_t rows : {1, 3, 7})
        for (int64_t d : {1, 7, 64, 100, 3200}) {
          SCOPED_TRACE(label(isa, threads) + " rows=" + std::to_string(rows) + " d=" + std::to_string(d));
          CpuBackend be({.threads = threads, .isa = isa});
          std::vector<Buffer> keep;
          const auto xf = random_floats(size_t(rows * d), rng, -4, 4);
          const auto yf = random_floats(size_t(rows * d), rng, -4, 4);
          const auto wf = random_floats(size_t(d), rng);
          const TensorView x = upload(be, keep, xf, rows, d), y = upload(be, keep, yf, rows, d);
          const TensorView wt = upload(be, keep, wf, 1, d);
          keep.push_back(be.alloc(xf.size() * sizeof(float)));
          const TensorView out = keep.back().view(DType::F32, rows, d);

          be.rms_norm(out, x, wt, 1e-5f);
          std::vector<float> want(xf.size());
          cpu::ref::rms_norm_f32({want.data(), DType::F32, rows, d}, x, wf.data(), 1e-5f, 0, rows);
          auto got = host(out);
          for (size_t i = 0; i < want.size(); ++i)
            ASSERT_NEAR(got[i], want[i], 1e-5 * std::fabs(want[i]) + 1e-6) << "rms_norm " << i;

          be.swiglu(x, y);
          got = host(x);
          for (size_t i = 0; i < xf.size(); ++i) {
            const float g = xf[i] / (1.0f + std::exp(-xf[i])) * yf[i];
            ASSERT_NEAR(got[i], g, 1e-5 * std::fabs(g) + 1e-6) << "swiglu " << i;
          }
          be.add(x, y);
          const auto sum = host(x);
          for (size_t i = 0; i < xf.size(); ++i) ASSERT_EQ(sum[i], got[i] + yf[i]) << "add " << i;
        }
}

TEST(CpuKernelOps, AddLargeSplitsAcrossThreads) {
  std::mt19937 rng(6);
  CpuBackend be({.threads = 3});
  std::vector<Buffer> keep;
  const int64_t rows = 33, d = 3200;
  const auto xf = random_floats(size_t(rows * d), rng), yf = random_floats(size_t(rows * d), rng);
  const TensorView x = upload(be, keep, xf, rows, d), y = upload(be, keep, yf, rows, d);
  be.add(x, y);
  const auto got = host(x);
  for (size_t i = 0; i < xf.size(); ++i) ASSERT_EQ(got[i], xf[i] + yf[i]) << i;
}

// Backend::argmax_rows (the host scan every backend but the GPU's uses) gives the sampler's
// argmax of each row: the first of equal maxima.
TEST(CpuKernelOps, ArgmaxRowsIsTheSamplersArgmax) {
  std::mt19937 rng(8);
  CpuBackend be({.threads = 2});
  std::vector<Buffer> keep;
  const int64_t rows = 4, d = 1000;
  auto xf = random_floats(size_t(rows * d), rng);
  xf[size_t(d + 10)] = xf[size_t(d + 900)] = 7.0f;  // row 1: its maximum twice
  const TensorView x = upload(be, keep, xf, rows, d);
  std::vector<int32_t> ids(static_cast<size_t>(rows));
  be.argmax_rows(ids, x);
  for (int64_t r = 0; r < rows; ++r)
    EXPECT_EQ(ids[size_t(r)], argmax(std::span(xf).subspan(size_t(r * d), size_t(d)))) << r;
  EXPECT_EQ(ids[1], 10);
  std::vector<int32_t> wrong(2);
  test::expect_error([&] { be.argmax_rows(wrong, x); }, {"argmax_rows: 2 ids for 4 rows"});
}

// Copied weights (huge pages advised or not) hold the same bytes and give the same products.
TEST(CpuKernelWeights, CopiesWithAndWithoutHugePages) {
  std::mt19937 rng(8);
  const int64_t m = 512, k = 3200;  // 0.9 MB as Q4_0 (small path), 6.5 MB as F32 (huge path)
  for (DType type : {DType::Q4_0, DType::F32})
    for (bool huge : {false, true}) {
      CpuBackend be({.threads = 2, .weights = WeightPlacement::Copy, .huge_pages = huge});
      auto wbytes = random_weight(type, m, k, rng);
      std::vector<Buffer> keep;
      const TensorView w = be.place_weight(type, m, k, wbytes.data(), keep, WeightUse::Matmul);
      ASSERT_NE(w.data, static_cast<void*>(wbytes.data()));
      ASSERT_EQ(std::memcmp(w.data, wbytes.data(), wbytes.size()), 0);
      const auto xf = random_floats(size_t(2 * k), rng);
      const TensorView x = upload(be, keep, xf, 2, k);
      keep.push_back(be.alloc(size_t(2 * m) * sizeof(float)));
      keep.push_back(be.alloc(size_t(2 * m) * sizeof(float)));
      const TensorView y1 = keep[keep.size() - 2].view(DType::F32, 2, m);
      const TensorView y2 = keep.back().view(DType::F32, 2, m);
      be.matmul(y1, x, w);
      be.matmul(y2, x, {wbytes.data(), type, m, k});
      EXPECT_EQ(host(y1), host(y2));
    }
}

}  // namespace
}  // namespace llmpipe
