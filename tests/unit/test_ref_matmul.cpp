// The reference dot products and matmul (src/kernels/cpu/ref_matmul.cpp) for every weight dtype
// against float64 sums over the independently decoded weights (format_f64.h), on random data and
// several shapes, ragged ones included.
//
// Tolerance: the kernels accumulate in f32. For F32/F16/BF16 each term is one rounded product
// added by recursive summation; for Q8_0/Q4_0 a block sum of 32 terms q*x is scaled by d and
// added to the row sum. Either way each term passes through at most K + 2 roundings, so the
// standard bound for floating-point summation gives
//   |got - exact| <= gamma(K + 2) * sum_i |w_i x_i|,  gamma(n) = n u / (1 - n u), u = 2^-24,
// where w_i are the stored (decoded) weights: this checks the arithmetic, not quantization error.
//
// Quantized rows must be whole blocks: K is a multiple of 32 for Q8_0/Q4_0 (a weight view with
// another K is rejected by dtype_row_bytes); F32/F16/BF16 take any K >= 1.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "format_f64.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/quantize.h"
#include "kernels/cpu/reference_ops.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

constexpr DType kAllTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0};

double gamma_bound(int64_t n) {
  const double u = std::ldexp(1.0, -24);
  return double(n) * u / (1 - double(n) * u);
}

struct Shape {
  int64_t tokens, m, k;  // out [tokens, m] = in [tokens, k] . w [m, k]^T
};

// Random weights in `type` (quantized from uniform floats, varying scale per row, so blocks have
// different scales), random activations in [-1, 1].
struct Problem {
  DType type;
  Shape s;
  std::vector<uint8_t> w;     // [m] rows of dtype_row_bytes(type, k)
  std::vector<float> x;       // [tokens, k]
  std::vector<double> w64;    // [m, k] decoded independently

  Problem(DType t, Shape shape, uint32_t seed) : type(t), s(shape) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    const size_t row_bytes = dtype_row_bytes(type, s.k);
    w.resize(row_bytes * size_t(s.m));
    std::vector<float> row(size_t(s.k));
    for (int64_t r = 0; r < s.m; ++r) {
      const float scale = std::ldexp(1.0f, int(r % 7) - 3);
      for (auto& v : row) v = scale * u(rng);
      cpu::quantize_row(type, row.data(), w.data() + size_t(r) * row_bytes, s.k);
    }
    w64 = test::decode_f64(type, w.data(), s.k * s.m);  // rows are whole blocks: decodes as one
    x.resize(size_t(s.tokens * s.k));
    for (auto& v : x) v = u(rng);
  }

  TensorView weight_view() { return {w.data(), type, s.m, s.k}; }
  TensorView input_view() { return {x.data(), DType::F32, s.tokens, s.k}; }

  // Checks out [tokens, m] against float64 sums within the bound above.
  void check(const std::vector<float>& out, const std::string& what) const {
    const double g = gamma_bound(s.k + 2);
    int failures = 0;
    for (int64_t t = 0; t < s.tokens; ++t)
      for (int64_t r = 0; r < s.m && failures < 5; ++r) {
        double exact = 0, mag = 0;
        for (int64_t i = 0; i < s.k; ++i) {
          const double p = w64[size_t(r * s.k + i)] * double(x[size_t(t * s.k + i)]);
          exact += p;
          mag += std::fabs(p);
        }
        const double got = out[size_t(t * s.m + r)];
        if (!(std::fabs(got - exact) <= g * mag))
          ++failures, ADD_FAILURE() << what << " " << dtype_name(type) << " [" << s.tokens << ", "
                                    << s.m << ", " << s.k << "] out[" << t << ", " << r
                                    << "] = " << got << ", exact " << exact << ", bound "
                                    << g * mag;
      }
  }
};

std::vector<Shape> shapes_for(DType type) {
  // Ragged row counts (not multiples of anything) and several block counts per row.
  std::vector<Shape> s = {{1, 1, 32}, {3, 7, 64}, {5, 17, 96}, {2, 33, 320}, {4, 5, 2048}};
  if (dtype_block_size(type) == 1)  // plain types: any row length
    for (int64_t k : {1, 7, 33, 100, 1001}) s.push_back({3, 9, k});
  return s;
}

TEST(ReferenceMatmul, DotRowMatchesFloat64ForEveryDtype) {
  uint32_t seed = 1;
  for (DType type : kAllTypes)
    for (const Shape& s : shapes_for(type)) {
      Problem p(type, s, seed++);
      std::vector<float> out(size_t(s.tokens * s.m));
      const size_t row_bytes = dtype_row_bytes(type, s.k);
      for (int64_t t = 0; t < s.tokens; ++t)
        for (int64_t r = 0; r < s.m; ++r)
          out[size_t(t * s.m + r)] = cpu::ref::dot_row_f32(
              type, p.w.data() + size_t(r) * row_bytes, p.x.data() + t * s.k, s.k);
      p.check(out, "dot_row_f32");
    }
}

TEST(ReferenceMatmul, MatmulRowsMatchesFloat64ForEveryDtype) {
  uint32_t seed = 100;
  for (DType type : kAllTypes)
    for (const Shape& s : shapes_for(type)) {
      Problem p(type, s, seed++);
      std::vector<float> out(size_t(s.tokens * s.m), NAN);
      TensorView o{out.data(), DType::F32, s.tokens, s.m};
      cpu::ref::matmul_rows(o, p.input_view(), p.weight_view(), 0, s.m);
      p.check(out, "matmul_rows");
    }
}

// The CPU backend with its scalar kernels splits rows across threads; with 2 threads the result
// is bit-identical to one call over all rows (each output is one dot product, however the rows
// are split). 267 rows: three chunks of the backend's dynamic split, the last one ragged.
TEST(ReferenceMatmul, BackendMatmulEqualsSingleCallAcrossThreads) {
  CpuBackend backend({.threads = 2, .isa = cpu::CpuIsa::Scalar});
  constexpr int64_t kRows = 267;
  uint32_t seed = 200;
  for (DType type : kAllTypes) {
    Problem p(type, {3, kRows, 128}, seed++);
    std::vector<float> one(size_t(3 * kRows)), two(size_t(3 * kRows));
    cpu::ref::matmul_rows({one.data(), DType::F32, 3, kRows}, p.input_view(), p.weight_view(), 0,
                          kRows);
    backend.matmul({two.data(), DType::F32, 3, kRows}, p.input_view(), p.weight_view());
    EXPECT_EQ(one, two) << dtype_name(type);
    p.check(two, "backend matmul");
  }
}

// matmul_rows over [m0, m1) writes exactly those output columns.
TEST(ReferenceMatmul, RowRangeWritesOnlyItsRows) {
  Problem p(DType::Q4_0, {2, 10, 64}, 7);
  std::vector<float> out(20, -7.0f);
  cpu::ref::matmul_rows({out.data(), DType::F32, 2, 10}, p.input_view(), p.weight_view(), 3, 6);
  for (int64_t t = 0; t < 2; ++t)
    for (int64_t r = 0; r < 10; ++r) {
      const bool inside = r >= 3 && r < 6;
      EXPECT_EQ(out[size_t(t * 10 + r)] != -7.0f, inside) << t << ", " << r;
    }
}

TEST(ReferenceMatmul, QuantizedRowsMustBeWholeBlocks) {
  for (DType type : {DType::Q8_0, DType::Q4_0}) {
    std::vector<uint8_t> w(1024);
    std::vector<float> x(48), out(1);
    TensorView wv{w.data(), type, 1, 48};
    test::expect_error(
        [&] {
          cpu::ref::matmul_rows({out.data(), DType::F32, 1, 1}, {x.data(), DType::F32, 1, 48}, wv,
                                0, 1);
        },
        {"48 elements", std::string(dtype_name(type)), "blocks of 32"});
  }
}

TEST(ReferenceMatmul, BackendRejectsMismatchedShapes) {
  CpuBackend backend({.threads = 1});
  Problem p(DType::F16, {2, 4, 32}, 9);
  std::vector<float> x(2 * 31), out(8);
  test::expect_error(
      [&] {
        backend.matmul({out.data(), DType::F32, 2, 4}, {x.data(), DType::F32, 2, 31},
                       p.weight_view());
      },
      {"matmul", "[2, 31] x [4, 32]"});
}

}  // namespace
}  // namespace llmpipe
