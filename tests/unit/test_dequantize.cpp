// Dequantization of every storage type, end to end: tensors written with the GGUF writer, read
// back with the reader (map_tensor) and decoded by cpu::dequantize_row_f32, against the
// independent float64 decoders of format_f64.h.
//
// Exact equality is expected, bit for bit (NaN only as "is NaN"): every stored value is exactly
// representable in f32. F16 and BF16 are subsets of f32; a Q8_0 value d * q is a product of an
// 11-bit significand and an 8-bit integer (at most 19 significant bits, magnitude at most
// 65504 * 128), and a Q4_0 value d * (q - 8) likewise, so the f32 product is exact and equals
// the float64 one, including signed zeros and inf * 0 = NaN.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "format_f64.h"
#include "kernels/cpu/quantize.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

// f16 values worth naming: zeros, subnormal extremes, smallest normal, one, max, inf, NaN.
constexpr uint16_t kF16Edges[] = {0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x83ff, 0x0400,
                                  0x3c00, 0xbc00, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00,
                                  0xfe00, 0x7c01, 0x3555};

// Writes `bytes` as tensor "x" of `dtype` with shape [cols, rows], after a small F32 tensor so
// that "x" does not start the data section; reads it back and dequantizes row by row.
std::vector<float> write_read_dequantize(DType dtype, int64_t cols, int64_t rows,
                                         const std::vector<uint8_t>& bytes) {
  test::TempDir dir;
  const auto path = dir.file("x.gguf");
  gguf::Writer w;
  w.add_tensor("pad", DType::F32, {3});
  w.add_tensor("x", dtype, {cols, rows});
  const std::vector<uint8_t> pad(12, 0xab);
  w.write_all(path, {pad, bytes});

  const auto r = gguf::Reader::open(path);
  const auto* t = r.find_tensor("x");
  EXPECT_NE(t, nullptr);
  if (!t) return {};
  EXPECT_EQ(t->dtype, dtype);
  EXPECT_EQ(t->bytes, bytes.size());
  const auto region = r.map_tensor(*t);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), region.data())) << "bytes survive the file";
  std::vector<float> out(size_t(cols * rows));
  const size_t row_bytes = dtype_row_bytes(dtype, cols);
  for (int64_t row = 0; row < rows; ++row)
    cpu::dequantize_row_f32(dtype, region.data() + size_t(row) * row_bytes,
                            out.data() + row * cols, cols);
  return out;
}

// Bit-exact comparison with the float64 decoding (which must itself be f32-representable).
void expect_exact(const std::vector<float>& got, const std::vector<double>& want, DType dtype) {
  ASSERT_EQ(got.size(), want.size());
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 10; ++i) {
    if (std::isnan(want[i])) {
      if (!std::isnan(got[i])) ++failures, ADD_FAILURE() << "element " << i << ": want NaN, got " << got[i];
      continue;
    }
    const float w32 = float(want[i]);
    ASSERT_EQ(double(w32), want[i]) << "element " << i << " is not f32-representable";
    if (std::bit_cast<uint32_t>(got[i]) != std::bit_cast<uint32_t>(w32))
      ++failures, ADD_FAILURE() << dtype_name(dtype) << " element " << i << ": got " << got[i]
                                << ", want " << want[i];
  }
}

void check(DType dtype, int64_t cols, int64_t rows, const std::vector<uint8_t>& bytes) {
  SCOPED_TRACE(std::string(dtype_name(dtype)) + " [" + std::to_string(cols) + ", " +
               std::to_string(rows) + "]");
  const auto got = write_read_dequantize(dtype, cols, rows, bytes);
  expect_exact(got, test::decode_f64(dtype, bytes.data(), cols * rows), dtype);
}

std::vector<uint8_t> u16_bytes(const std::vector<uint16_t>& v) {
  std::vector<uint8_t> b(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    b[2 * i] = uint8_t(v[i]);
    b[2 * i + 1] = uint8_t(v[i] >> 8);
  }
  return b;
}

// All 65536 F16 bit patterns: zeros, every subnormal, normals, max, infinities, NaNs.
TEST(DequantizeF16, EveryBitPatternExact) {
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i);
  check(DType::F16, 256, 256, u16_bytes(all));
}

TEST(DequantizeF16, EdgeValuesHaveTheirIeeeMeaning) {
  // Spot checks of the float64 decoder itself against known constants.
  EXPECT_EQ(test::f16_value(0x0001), std::ldexp(1.0, -24));  // smallest subnormal
  EXPECT_EQ(test::f16_value(0x03ff), std::ldexp(1023.0, -24));  // largest subnormal
  EXPECT_EQ(test::f16_value(0x0400), std::ldexp(1.0, -14));  // smallest normal
  EXPECT_EQ(test::f16_value(0x7bff), 65504.0);
  EXPECT_EQ(test::f16_value(0x3c00), 1.0);
  EXPECT_EQ(test::f16_value(0xc000), -2.0);
  EXPECT_TRUE(std::signbit(test::f16_value(0x8000)));
  EXPECT_EQ(test::f16_value(0xfc00), -HUGE_VAL);
  const auto got = write_read_dequantize(
      DType::F16, int64_t(std::size(kF16Edges)), 1,
      u16_bytes({std::begin(kF16Edges), std::end(kF16Edges)}));
  ASSERT_EQ(got.size(), std::size(kF16Edges));
  EXPECT_TRUE(std::signbit(got[1]) && got[1] == 0.0f) << "-0 keeps its sign";
  EXPECT_EQ(got[9], 65504.0f);
  EXPECT_EQ(got[11], INFINITY);
  EXPECT_EQ(got[12], -INFINITY);
  EXPECT_TRUE(std::isnan(got[13]) && std::isnan(got[14]) && std::isnan(got[15]));
}

// All 65536 BF16 bit patterns: bf16 is the upper 16 bits of an f32.
TEST(DequantizeBF16, EveryBitPatternExact) {
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i);
  check(DType::BF16, 1024, 64, u16_bytes(all));
  EXPECT_EQ(test::bf16_value(0x3f80), 1.0);
  EXPECT_EQ(test::bf16_value(0xc040), -3.0);
  EXPECT_EQ(test::bf16_value(0x0001), std::ldexp(1.0, -133));
}

// Random blocks whose scales include every f16 edge case, then random scales (which include
// random infinities and NaNs); quants are random bytes, so every int8 / nibble value occurs.
std::vector<uint8_t> random_blocks(DType dtype, int64_t n_blocks, uint32_t seed) {
  const size_t block_bytes = size_t(dtype_block_bytes(dtype));
  std::vector<uint8_t> b(size_t(n_blocks) * block_bytes);
  std::mt19937 rng(seed);
  for (auto& x : b) x = uint8_t(rng());
  for (int64_t i = 0; i < n_blocks && size_t(i) < std::size(kF16Edges); ++i) {
    b[size_t(i) * block_bytes] = uint8_t(kF16Edges[i]);
    b[size_t(i) * block_bytes + 1] = uint8_t(kF16Edges[i] >> 8);
  }
  return b;
}

TEST(DequantizeQ8_0, RandomBlocksWithEdgeScalesExact) {
  for (auto [cols, rows] : {std::pair<int64_t, int64_t>{32, 1}, {64, 17}, {320, 9}, {4096, 4}})
    check(DType::Q8_0, cols, rows, random_blocks(DType::Q8_0, cols / 32 * rows, uint32_t(cols)));
}

TEST(DequantizeQ4_0, RandomBlocksWithEdgeScalesExact) {
  for (auto [cols, rows] : {std::pair<int64_t, int64_t>{32, 1}, {64, 17}, {320, 9}, {4096, 4}})
    check(DType::Q4_0, cols, rows, random_blocks(DType::Q4_0, cols / 32 * rows, uint32_t(cols)));
}

// The nibble order, spelled out on one block: byte j = (element j + 16) << 4 | element j.
TEST(DequantizeQ4_0, LowNibblesAreFirstHalfHighNibblesSecondHalf) {
  std::vector<uint8_t> b(18);
  b[0] = 0x00;
  b[1] = 0x3c;  // d = 1
  for (int j = 0; j < 16; ++j) b[size_t(2 + j)] = uint8_t((15 - j) << 4 | j);
  const auto got = write_read_dequantize(DType::Q4_0, 32, 1, b);
  ASSERT_EQ(got.size(), 32u);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(got[size_t(j)], float(j - 8)) << j;
    EXPECT_EQ(got[size_t(j + 16)], float(15 - j - 8)) << j + 16;
  }
}

TEST(DequantizeQ8_0, OneBlockSpelledOut) {
  std::vector<uint8_t> b(34);
  b[0] = 0x00;
  b[1] = 0xb8;  // d = -0.5
  for (int j = 0; j < 32; ++j) b[size_t(2 + j)] = uint8_t(int8_t(j * 8 - 128));
  const auto got = write_read_dequantize(DType::Q8_0, 32, 1, b);
  ASSERT_EQ(got.size(), 32u);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(got[size_t(j)], -0.5f * float(j * 8 - 128)) << j;
}

// F32 rows pass through unchanged, NaN payloads included.
TEST(DequantizeF32, BytesPassThrough) {
  std::vector<uint8_t> b(4 * 64 * 3);
  std::mt19937 rng(5);
  for (auto& x : b) x = uint8_t(rng());
  const auto got = write_read_dequantize(DType::F32, 64, 3, b);
  ASSERT_EQ(got.size() * 4, b.size());
  EXPECT_EQ(std::memcmp(got.data(), b.data(), b.size()), 0);
}

}  // namespace
}  // namespace llmpipe
