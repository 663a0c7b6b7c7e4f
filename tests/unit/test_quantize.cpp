// Quantization (cpu::quantize_row*) against error bounds derived from the implementation, with
// the result decoded by the independent float64 decoders of format_f64.h.
//
// Q8_0 (quantize.cpp): d = amax / 127 in f32, stored as f16 dh; q = lround(x * (1/d)).
//   Rounding x/d to the nearest integer errs by at most 1/2, plus f32 error in x * (1/d) of a
//   few ulp of a value <= 127 (< 1e-4); storing d as f16 changes each value by |q| * |d - dh|.
//   Bound per element: |x - dh*q| <= d * (0.5 + 1e-4) + |q| * |d - dh|.
//   With |d - dh| <= 2^-11 d (f16 round to nearest, d in the normal f16 range) and |q| <= 127:
//   |x - dh*q| <= d * (0.5 + 1e-4 + 127/2048) < 0.5622 d.
// Q4_0: d = max / -8 (max: the element of largest magnitude, signed), nibble
//   n = min(15, floor(x/d + 8.5)), value dh * (n - 8). For x/d < 7.5 that is x/d rounded (error
//   <= 1/2); x/d in [7.5, 8] (the opposite sign of max, at nearly its magnitude) clamps to 7,
//   error <= 1. Bound: |x - dh*(n-8)| <= |d| * (0.5 + 1e-4) + 8 |d - dh| unclamped,
//   |d| * (1 + 1e-4) + 8 |d - dh| clamped; the element equal to max decodes to -8 dh.
// F16 / BF16: round to nearest even, checked against the neighbours of the chosen value.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

#include "core/half.h"
#include "format_f64.h"
#include "kernels/cpu/quantize.h"

namespace llmpipe {
namespace {

// Blocks of 32 floats in varied regimes: uniform at several scales, one outlier, all zero,
// all equal, and equal opposite extremes. Scales keep d in the normal f16 range (d >= 2^-14),
// where the 2^-11 relative bound on storing d holds; below it the f16 scale is subnormal and
// only an absolute 2^-25 bound applies (tiny weights are not what these tests are about).
std::vector<float> test_blocks(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x;
  for (float scale : {0.03f, 0.2f, 1.0f, 37.0f, 1000.0f})
    for (int b = 0; b < 8; ++b)
      for (int j = 0; j < 32; ++j) x.push_back(scale * u(rng));
  for (int j = 0; j < 32; ++j) x.push_back(j == 5 ? 50.0f : 0.01f * u(rng));  // outlier
  for (int j = 0; j < 32; ++j) x.push_back(0.0f);                              // all zero
  for (int j = 0; j < 32; ++j) x.push_back(-0.75f);                            // constant
  for (int j = 0; j < 32; ++j) x.push_back(j == 31 ? -4.0f : (j == 0 ? 4.0f : u(rng)));  // ±max
  return x;
}

TEST(QuantizeQ8_0, ErrorWithinDerivedBound) {
  const auto x = test_blocks(1);
  const int64_t n = int64_t(x.size());
  std::vector<BlockQ8_0> q(size_t(n / 32));
  cpu::quantize_row_q8_0(x.data(), q.data(), n);
  const auto deq = test::decode_f64(DType::Q8_0, reinterpret_cast<const uint8_t*>(q.data()), n);
  for (int64_t b = 0; b < n / 32; ++b) {
    double amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(double(x[size_t(b * 32 + j)])));
    const double d = amax / 127, dh = test::f16_value(q[size_t(b)].d);
    EXPECT_LE(std::fabs(d - dh), std::ldexp(d, -11) * 1.0001) << "block " << b << ": scale";
    for (int j = 0; j < 32; ++j) {
      const size_t i = size_t(b * 32 + j);
      const int qi = q[size_t(b)].qs[j];
      EXPECT_LE(std::abs(qi), 127) << "block " << b;
      const double err = std::fabs(double(x[i]) - deq[i]);
      EXPECT_LE(err, d * (0.5 + 1e-4) + std::abs(qi) * std::fabs(d - dh)) << "element " << i;
      EXPECT_LE(err, 0.5622 * d) << "element " << i;
      if (std::fabs(double(x[i])) == amax && amax > 0) {
        EXPECT_EQ(std::abs(qi), 127) << i;
      }
    }
  }
}

TEST(QuantizeQ4_0, ErrorWithinDerivedBound) {
  const auto x = test_blocks(2);
  const int64_t n = int64_t(x.size());
  std::vector<BlockQ4_0> q(size_t(n / 32));
  cpu::quantize_row_q4_0(x.data(), q.data(), n);
  const auto deq = test::decode_f64(DType::Q4_0, reinterpret_cast<const uint8_t*>(q.data()), n);
  for (int64_t b = 0; b < n / 32; ++b) {
    double max = 0;
    for (int j = 0; j < 32; ++j)
      if (std::fabs(double(x[size_t(b * 32 + j)])) > std::fabs(max)) max = x[size_t(b * 32 + j)];
    const double d = max / -8, dh = test::f16_value(q[size_t(b)].d);
    EXPECT_LE(std::fabs(d - dh), std::ldexp(std::fabs(d), -11) * 1.0001) << "block " << b;
    for (int j = 0; j < 32; ++j) {
      const size_t i = size_t(b * 32 + j);
      const double err = std::fabs(double(x[i]) - deq[i]);
      const bool clamped = d != 0 && double(x[i]) / d > 7.5;
      const double bound = std::fabs(d) * (clamped ? 1 + 1e-4 : 0.5 + 1e-4) + 8 * std::fabs(d - dh);
      EXPECT_LE(err, bound) << "element " << i << (clamped ? " (clamped)" : "");
      if (double(x[i]) == max && max != 0) {
        EXPECT_EQ(deq[i], -8 * dh) << "element " << i;
      }
    }
  }
  // A zero block stores d = ±0 (max / -8 = -0.0) and nibble 8 everywhere (the value 0).
  const auto& zero = q[size_t(n / 32 - 3)];
  EXPECT_EQ(test::f16_value(zero.d), 0.0);
  for (uint8_t byte : zero.qs) EXPECT_EQ(byte, 0x88);
}

TEST(QuantizeQ8_0, ZeroBlockIsExactlyZero) {
  const std::vector<float> x(64, 0.0f);
  std::vector<BlockQ8_0> q(2);
  cpu::quantize_row_q8_0(x.data(), q.data(), 64);
  std::vector<float> back(64, 1.0f);
  cpu::dequantize_row_f32(DType::Q8_0, q.data(), back.data(), 64);
  for (float v : back) EXPECT_EQ(v, 0.0f);
}

// Quantizing values that are already on the Q8_0 grid of their block reproduces them exactly
// when the scale is a power of two (so d = amax/127 is exact in f16 and x/d is an integer).
TEST(QuantizeQ8_0, ValuesOnTheGridAreReproduced) {
  std::mt19937 rng(3);
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[size_t(j)] = 0.25f * float(int(rng() % 255) - 127);
  x[7] = 0.25f * 127;  // amax = 127 * 0.25: d = 0.25
  std::vector<BlockQ8_0> q(1);
  cpu::quantize_row_q8_0(x.data(), q.data(), 32);
  std::vector<float> back(32);
  cpu::dequantize_row_f32(DType::Q8_0, q.data(), back.data(), 32);
  EXPECT_EQ(back, x);
}

// f32 -> f16 is round to nearest, ties to even, with overflow to inf and gradual underflow.
// Checked on random floats across the whole f16 range, against the float64 value of the chosen
// f16 and its two neighbours.
TEST(QuantizeF16, RoundsToNearestEven) {
  std::mt19937 rng(4);
  std::vector<float> x;
  for (int i = 0; i < 20000; ++i) {
    // Random exponent in [-26, 16], random mantissa, random sign.
    const float m = 1.0f + float(rng() & 0x7fffff) / float(1 << 23);
    const float v = std::ldexp(m, int(rng() % 43) - 26);
    x.push_back(rng() & 1 ? -v : v);
  }
  for (uint16_t h = 0; h < 0x7c00; h += 7) {  // exact f16 values and midpoints between them
    x.push_back(float(test::f16_value(h)));
    x.push_back(float((test::f16_value(h) + test::f16_value(uint16_t(h + 1))) / 2));
  }
  std::vector<uint16_t> h(x.size());
  cpu::quantize_row(DType::F16, x.data(), h.data(), int64_t(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double xi = x[i], v = test::f16_value(h[i]);
    const double ax = std::fabs(xi);
    if (ax >= 65520) {  // 65504 + half an ulp (16) and beyond round to infinity
      EXPECT_EQ(v, std::copysign(HUGE_VAL, xi)) << xi;
      continue;
    }
    ASSERT_TRUE(std::isfinite(v)) << xi;
    EXPECT_EQ(std::signbit(v), std::signbit(xi)) << xi;
    const uint16_t mag = h[i] & 0x7fff;
    const double up = test::f16_value(uint16_t(mag + 1));
    const double down = mag ? test::f16_value(uint16_t(mag - 1)) : 0.0;
    const double err = std::fabs(ax - std::fabs(v));
    EXPECT_LE(err, std::fabs(ax - up)) << xi;
    EXPECT_LE(err, std::fabs(ax - down)) << xi;
    if (err == std::fabs(ax - up) || (mag && err == std::fabs(ax - down))) {
      EXPECT_EQ(mag & 1, 0) << "tie must go to even: " << xi;
    }
  }
  // Named edge cases.
  const float edges[] = {65504.0f, 65519.0f, 65520.0f, 1e10f, -0.0f, 5.96e-8f, 2.9e-8f, NAN};
  uint16_t e[std::size(edges)];
  cpu::quantize_row(DType::F16, edges, e, int64_t(std::size(edges)));
  EXPECT_EQ(e[0], 0x7bff);
  EXPECT_EQ(e[1], 0x7bff);
  EXPECT_EQ(e[2], 0x7c00);
  EXPECT_EQ(e[3], 0x7c00);
  EXPECT_EQ(e[4], 0x8000);
  EXPECT_EQ(e[5], 0x0001);  // smallest subnormal, 2^-24 ~ 5.96e-8
  EXPECT_EQ(e[6], 0x0000);  // below half of it: zero
  EXPECT_TRUE(std::isnan(test::f16_value(e[7])));
}

TEST(QuantizeBF16, RoundsToNearestEven) {
  std::mt19937 rng(6);
  std::vector<float> x;
  for (int i = 0; i < 20000; ++i) {
    uint32_t u = rng();
    if ((u & 0x7f800000u) == 0x7f800000u) u &= ~0x40000000u;  // keep finite
    x.push_back(std::bit_cast<float>(u));
  }
  std::vector<uint16_t> h(x.size());
  cpu::quantize_row(DType::BF16, x.data(), h.data(), int64_t(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double ax = std::fabs(double(x[i])), v = std::fabs(test::bf16_value(h[i]));
    if (std::isinf(v)) {  // only values within half an ulp of FLT_MAX's bf16 neighbour overflow
      EXPECT_GE(ax, double(std::bit_cast<float>(0x7f7f8000u))) << x[i];
      continue;
    }
    const uint16_t mag = h[i] & 0x7fff;
    const double up = test::bf16_value(uint16_t(mag + 1));
    const double down = mag ? test::bf16_value(uint16_t(mag - 1)) : 0.0;
    const double err = std::fabs(ax - v);
    EXPECT_LE(err, std::fabs(ax - up)) << x[i];
    EXPECT_LE(err, std::fabs(ax - down)) << x[i];
  }
  const float nan = NAN;
  uint16_t hn;
  cpu::quantize_row(DType::BF16, &nan, &hn, 1);
  EXPECT_TRUE(std::isnan(test::bf16_value(hn))) << "NaN stays NaN";
}

}  // namespace
}  // namespace llmpipe
