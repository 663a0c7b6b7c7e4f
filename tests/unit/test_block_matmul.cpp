// Products with the block-decoded weight types (block_decode.h) through the CPU backend, at
// every kernel level: against a float64 product of the decoded weights, and a row's bits
// independent of the batch. (The decode itself is checked against gguf-py bit for bit by
// tests/integration/test_block_decode.sh.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <cstring>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/block_decode.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/packed_weights.h"
#include "kernels/cpu/quantize.h"

namespace llmpipe {
namespace {

using cpu::CpuIsa;

struct BlockType {
  DType type;
  std::vector<int> f16_fields;  // byte offsets of the f16 scales in a block
};
const BlockType kTypes[] = {
    {DType::Q4_1, {0, 2}}, {DType::Q5_0, {0}},      {DType::Q5_1, {0, 2}},
    {DType::Q2_K, {80, 82}}, {DType::Q3_K, {108}},  {DType::Q4_K, {0, 2}},
    {DType::Q5_K, {0, 2}}, {DType::Q6_K, {208}},    {DType::IQ4_NL, {0}},
    {DType::IQ4_XS, {0}},
};

// Random bits in every field, scales small and finite (so sums stay in range).
std::vector<uint8_t> random_blocks(const BlockType& t, int64_t m, int64_t k, std::mt19937& rng) {
  std::vector<uint8_t> w(dtype_row_bytes(t.type, k) * size_t(m));
  for (auto& b : w) b = uint8_t(rng());
  std::uniform_real_distribution<float> scale(-0.01f, 0.01f);
  const size_t bb = size_t(dtype_block_bytes(t.type));
  for (size_t off = 0; off < w.size(); off += bb)
    for (int f : t.f16_fields) {
      const uint16_t h = f32_to_f16(scale(rng));
      std::memcpy(w.data() + off + size_t(f), &h, 2);
    }
  return w;
}

// |error| bound of one output of the SIMD block kernels (x86/matmul_blocks_impl.h) against the
// float64 product of the decoded weights w: the activations' rounding to int8 codes per 32,
// |x - x̂| <= dx / 2 (dx = max|x| / 127, its reciprocal rounded: a relative 1e-6 more), times
// |w|; plus float accumulation of the kernel's terms d_s * code * x and m_s * x (k of them at
// most, error <= k u each, doubled for the products' own rounding) — the split weight can
// cancel, so the bound uses |d_s code| + |m_s|, not |w|.
// Packed Q5_0, Q4_K and Q6_K (packed_weights.h) take the activations of the packed kernels, whose dx is
// rounded through F16 like ggml's: |x - c f16(dx)| <= dx / 2 + 127 dx 2^-11.
double block_kernel_bound(DType type, const uint8_t* wrow, const float* w, const float* x, int64_t k,
                          bool packed) {
  const double half_step = packed ? 0.5 + 127.0 / 2048 : 0.5;
  double quant = 0, terms = 0;
  for (int64_t b = 0; b < k / 32; ++b) {
    double amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(double(x[b * 32 + j])));
    const double dx = amax / 127;
    for (int j = 0; j < 32; ++j)
      quant += std::fabs(double(w[b * 32 + j])) * (dx * half_step * (1 + 1e-5) + 1e-6 * std::fabs(double(x[b * 32 + j])));
  }
  const double u = std::ldexp(1.0, -24);
  const int64_t kp = (k + 255) / 256 * 256;
  std::vector<uint8_t> codes(static_cast<size_t>(kp));
  std::vector<float> d(size_t(kp / 16)), mm(size_t(kp / 16));
  cpu::unpack_row_codes(type, wrow, k, codes.data(), d.data(), mm.data());
  for (int64_t j = 0; j < k; ++j)
    terms += (std::fabs(double(d[size_t(j / 16)]) * codes[size_t(j)]) + std::fabs(double(mm[size_t(j / 16)]))) *
             std::fabs(double(x[j]));
  return quant + 2.0 * double(k) * u * terms + 1e-30;
}

TEST(BlockMatmul, MatchesFloat64AndRowsDoNotDependOnTheBatch) {
  std::mt19937 rng(3);
  // 37 rows: a ragged last chunk of the 16-row steps; 21 tokens: a whole tile of activation rows
  // (16 with AVX-512, 8 with AVX2) and a ragged one.
  const int64_t m = 37, n = 21;
  for (const BlockType& t : kTypes)
    for (const int64_t k : {int64_t(512), int64_t(352)}) {  // 352: 11 blocks of 32, a partial group
      if (k % dtype_block_size(t.type) != 0) continue;
      for (CpuIsa isa : cpu::supported_cpu_isas()) {
      SCOPED_TRACE(std::string(dtype_name(t.type)) + ", k " + std::to_string(k) + ", " +
                   std::string(cpu::cpu_isa_name(isa)));
      ASSERT_TRUE(cpu::decoded_by_blocks(t.type));
      CpuBackend be({.threads = 2, .isa = isa});
      // The scalar level multiplies the decoded weights with F32 activations; the SIMD levels
      // quantize the activations (the bound above).
      const bool quantized_activations = isa != CpuIsa::Scalar;
      std::vector<Buffer> keep;
      const auto wb = random_blocks(t, m, k, rng);
      const TensorView w = be.place_weight(t.type, m, k, wb.data(), keep, WeightUse::Matmul);
      // AVX-512 repacks Q5_0, Q4_K and Q6_K at load (matmul_packed*_avx512.cpp): those kernels are tested.
      const bool repacked = t.type == DType::Q5_0 || t.type == DType::Q4_K || t.type == DType::Q6_K;
      ASSERT_EQ(w.packed_rows != 0, repacked && isa == CpuIsa::Avx512);
      std::vector<float> xf(size_t(n * k));
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      for (auto& v : xf) v = u(rng);
      keep.push_back(be.alloc(xf.size() * sizeof(float)));
      const TensorView x = keep.back().view(DType::F32, n, k);
      std::memcpy(x.data, xf.data(), xf.size() * sizeof(float));
      keep.push_back(be.alloc(size_t(n * m) * sizeof(float)));
      const TensorView y = keep.back().view(DType::F32, n, m);
      be.matmul(y, x, w);
      std::vector<float> batch(static_cast<size_t>(n * m));
      std::memcpy(batch.data(), y.data, batch.size() * sizeof(float));

      std::vector<float> row(static_cast<size_t>(k));
      const size_t rb = dtype_row_bytes(t.type, k);
      for (int64_t r = 0; r < m; ++r) {
        cpu::dequantize_row_f32(t.type, wb.data() + size_t(r) * rb, row.data(), k);
        for (int64_t i = 0; i < n; ++i) {
          double exact = 0, magnitude = 0;
          for (int64_t j = 0; j < k; ++j) {
            const double p = double(row[size_t(j)]) * double(xf[size_t(i * k + j)]);
            exact += p;
            magnitude += std::fabs(p);
          }
          // Float accumulation of k products in any order: |error| <= k u sum|w x| (u = 2^-24),
          // doubled for the products' own rounding and the kernels' partial sums.
          const double bound =
              quantized_activations
                  ? block_kernel_bound(t.type, wb.data() + size_t(r) * rb, row.data(), xf.data() + i * k, k,
                                       w.packed_rows != 0)
                  : 2.0 * double(k) * std::ldexp(1.0, -24) * magnitude + 1e-30;
          ASSERT_NEAR(batch[size_t(i * m + r)], exact, bound) << "row " << r << ", token " << i;
        }
      }
      for (int64_t i = 0; i < n; ++i) {
        be.matmul(y.rows_slice(0, 1), x.rows_slice(i, 1), w);
        ASSERT_EQ(0, std::memcmp(y.data, batch.data() + i * m, size_t(m) * sizeof(float)))
            << "token " << i << " alone differs from its row in the batch";
      }
      }
    }
}

// The kernels' unpacked form (d * code + m per weight, block_unpack.h) is the decode (gguf-py's
// numbers, block_decode.cpp), up to the rounding of the two ways of computing it: each is one or
// two float operations on the same exact operands, so they differ by at most 2 ulp of the terms.
TEST(BlockMatmul, UnpackedFormEqualsTheDecode) {
  std::mt19937 rng(11);
  for (const BlockType& t : kTypes)
    for (const int64_t k : {int64_t(256), int64_t(768), int64_t(96)}) {
      if (k % dtype_block_size(t.type) != 0) continue;
      SCOPED_TRACE(std::string(dtype_name(t.type)) + ", k " + std::to_string(k));
      const auto wb = random_blocks(t, 1, k, rng);
      std::vector<float> w(static_cast<size_t>(k));
      cpu::dequantize_row_f32(t.type, wb.data(), w.data(), k);
      const int64_t kp = (k + 255) / 256 * 256;
      std::vector<uint8_t> codes(size_t(kp), 0xee);
      std::vector<float> d(size_t(kp / 16), 7.0f), m(size_t(kp / 16), 7.0f);
      cpu::unpack_row_codes(t.type, wb.data(), k, codes.data(), d.data(), m.data());
      for (int64_t e = 0; e < k; ++e) {
        const double dd = d[size_t(e / 16)], mm = m[size_t(e / 16)];
        const double tol = 2 * std::ldexp(1.0, -24) * (std::fabs(dd * codes[size_t(e)]) + std::fabs(mm));
        ASSERT_NEAR(dd * codes[size_t(e)] + mm, w[size_t(e)], tol) << "weight " << e;
      }
      for (int64_t e = k; e < kp; ++e) ASSERT_EQ(codes[size_t(e)], 0) << "padding code " << e;
      for (int64_t s = k / 16; s < kp / 16; ++s) ASSERT_TRUE(d[size_t(s)] == 0 && m[size_t(s)] == 0) << "padding " << s;
    }
}

// The packed Q5_0, Q4_K and Q6_K layouts round-trip: every row unpacked is the row's original bytes
// (Q4_K's scales re-encoded in ggml's 12-byte form), including a last group padded past the
// weight's end.
TEST(BlockMatmul, PackedRowsRoundTrip) {
  std::mt19937 rng(13);
  const int64_t m = 37, k = 512;
  for (const BlockType& t : kTypes) {
    if (t.type != DType::Q5_0 && t.type != DType::Q4_K && t.type != DType::Q6_K) continue;
    SCOPED_TRACE(std::string(dtype_name(t.type)));
    const auto w = random_blocks(t, m, k, rng);
    std::vector<uint8_t> packed(cpu::packed_bytes(t.type, m, k));
    cpu::pack_row_groups(t.type, w.data(), m, k, packed.data(), 0, (m + cpu::kPackRows - 1) / cpu::kPackRows);
    const size_t rb = dtype_row_bytes(t.type, k);
    std::vector<uint8_t> row(rb);
    for (int64_t r = 0; r < m; ++r) {
      cpu::unpack_row(t.type, packed.data(), k, r, row.data());
      ASSERT_EQ(0, std::memcmp(row.data(), w.data() + size_t(r) * rb, rb)) << "row " << r;
    }
  }
}

TEST(BlockMatmul, RowsThatAreNotWholeBlocksAreRefused) {
  std::vector<float> out(300);
  std::vector<uint8_t> src(1000);
  EXPECT_THROW(cpu::dequantize_row_f32(DType::Q4_K, src.data(), out.data(), 300), std::exception);
  EXPECT_THROW(dtype_row_bytes(DType::Q6_K, 3200), std::exception);
  EXPECT_EQ(dtype_row_bytes(DType::Q6_K, 4096), size_t(16 * 210));
}

}  // namespace
}  // namespace llmpipe
