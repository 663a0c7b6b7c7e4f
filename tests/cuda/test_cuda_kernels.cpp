// Every op of the CUDA backend against the CPU backend (the reference semantics), on random
// inputs of several shapes (ragged ones included: row counts that are not multiples of a warp
// or a thread block), every weight dtype and both KV cache types; then stories260K greedy
// generation, which must give the CPU's (and llama.cpp's) tokens.
//
// Tolerances, per op (why in each test): exact for data movement (get_rows, store_kv, add);
// ~1e-5 relative for reductions summed in another order (rms_norm, F32 products, attention
// with an F32 cache); products through F16/BF16 activations (cuBLAS prefill path) within the
// rounding of the activations, bounded by 2^-11 (F16) or 2^-8 (BF16) times Σ|w·x|.
//
// Without a GPU (no NVIDIA driver, or no device) the binary prints "skipped: no GPU" and exits
// with 77, which CTest reports as skipped (SKIP_RETURN_CODE), never as passed; a driver that is
// there but fails is a failure (exit 1), not a skip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/half.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_tensor_source.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/quantize.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/device_probe.h"
#include "model/converting_tensor_source.h"
#include "model/llama_stage.h"
#include "runtime/generator.h"

namespace llmpipe {
namespace {

constexpr DType kWeightTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0};

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// The same tensors on both backends.
struct Pair {
  CpuBackend cpu{{.threads = 2}};
  std::unique_ptr<Backend> gpu = make_cuda_backend({});
  std::vector<Buffer> keep;

  struct Tensor {
    TensorView c, g;
  };
  Tensor f32(int64_t rows, int64_t cols, const std::vector<float>& values) {
    keep.push_back(cpu.alloc(size_t(rows * cols) * 4));
    const TensorView c = keep.back().view(DType::F32, rows, cols);
    keep.push_back(gpu->alloc(size_t(rows * cols) * 4));
    const TensorView g = keep.back().view(DType::F32, rows, cols);
    cpu.from_host(c, values);
    gpu->from_host(g, values);
    return {c, g};
  }
  Tensor f32(int64_t rows, int64_t cols, uint32_t seed) {
    return f32(rows, cols, random_floats(size_t(rows * cols), seed));
  }
  Tensor zeros(DType t, int64_t rows, int64_t cols) {
    const size_t bytes = dtype_row_bytes(t, cols) * size_t(rows);
    keep.push_back(cpu.alloc(bytes));
    const TensorView c{keep.back().data(), t, rows, cols};
    keep.push_back(gpu->alloc(bytes));
    return {c, {keep.back().data(), t, rows, cols}};
  }
  // A weight [rows, cols] of type t from random values; `dequantized` gets what it represents.
  Tensor weight(DType t, int64_t rows, int64_t cols, uint32_t seed,
                std::vector<float>* dequantized = nullptr, WeightUse use = WeightUse::Matmul) {
    const auto values = random_floats(size_t(rows * cols), seed);
    std::vector<uint8_t> bytes(dtype_row_bytes(t, cols) * size_t(rows));
    const size_t rb = dtype_row_bytes(t, cols);
    for (int64_t r = 0; r < rows; ++r)
      cpu::quantize_row(t, values.data() + r * cols, bytes.data() + size_t(r) * rb, cols);
    if (dequantized) {
      dequantized->resize(values.size());
      for (int64_t r = 0; r < rows; ++r)
        cpu::dequantize_row_f32(t, bytes.data() + size_t(r) * rb, dequantized->data() + r * cols,
                                cols);
    }
    auto host = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
    hosts.push_back(host);
    return {cpu.place_weight(t, rows, cols, host->data(), keep, use),
            gpu->place_weight(t, rows, cols, host->data(), keep, use)};
  }
  std::vector<float> host(Backend& b, TensorView v) {
    std::vector<float> out(size_t(v.rows * v.cols));
    b.to_host(out, v);
    return out;
  }
  std::vector<float> cpu_host(const Tensor& t) { return host(cpu, t.c); }
  std::vector<float> gpu_host(const Tensor& t) { return host(*gpu, t.g); }
  std::vector<std::shared_ptr<std::vector<uint8_t>>> hosts;

  ~Pair() { keep.clear(); }  // buffers before their backends
};

float max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::fabs(a[i] - b[i]) / std::max(1.0f, std::fabs(a[i])));
  return m;
}

// The decode-product kernels a CUDA backend created in scope uses (read at construction):
// the warp kernel with each type's rows per warp, with 1 and with 2, and the block kernels.
struct DecodeMode {
  const char* kernels;
  const char* rows;
};
constexpr DecodeMode kDecodeModes[] = {{"warp", ""}, {"warp", "1"}, {"warp", "2"}, {"block", ""}};
std::string describe(const DecodeMode& m) {
  return std::string(m.kernels) + (*m.rows ? std::string(" rows ") + m.rows : "");
}
class ScopedDecodeMode {
 public:
  explicit ScopedDecodeMode(const DecodeMode& m) {
    setenv("LLMPIPE_CUDA_DECODE", m.kernels, 1);
    setenv("LLMPIPE_CUDA_WARP_ROWS", m.rows, 1);
  }
  ~ScopedDecodeMode() {
    unsetenv("LLMPIPE_CUDA_DECODE");
    unsetenv("LLMPIPE_CUDA_WARP_ROWS");
  }
  ScopedDecodeMode(const ScopedDecodeMode&) = delete;
  ScopedDecodeMode& operator=(const ScopedDecodeMode&) = delete;
};

TEST(CudaKernels, GetRowsIsExactForEveryTableType) {
  Pair p;
  for (DType t : kWeightTypes)
    for (int64_t n : {1, 5, 33}) {
      const auto table = p.weight(t, 37, 96, 11, nullptr, WeightUse::Lookup);
      std::vector<int32_t> ids(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) ids[size_t(i)] = int32_t((i * 7 + 3) % 37);
      const auto out = p.zeros(DType::F32, n, 96);
      p.cpu.get_rows(out.c, table.c, ids);
      p.gpu->get_rows(out.g, table.g, ids);
      EXPECT_EQ(p.cpu_host(out), p.gpu_host(out)) << dtype_name(t) << " n " << n;
    }
}

TEST(CudaKernels, RmsNormWithinSummationOrder) {
  Pair p;
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 64}, {3, 96}, {33, 4128}, {2, 33}}) {
    const auto x = p.f32(rows, cols, 1);
    const auto w = p.f32(1, cols, 2);
    const auto out = p.zeros(DType::F32, rows, cols);
    p.cpu.rms_norm(out.c, x.c, w.c, 1e-5f);
    p.gpu->rms_norm(out.g, x.g, w.g, 1e-5f);
    EXPECT_LT(max_rel_diff(p.cpu_host(out), p.gpu_host(out)), 1e-5f) << rows << "x" << cols;
    p.gpu->rms_norm(x.g, x.g, w.g, 1e-5f);  // in place, as the last stage does
    EXPECT_LT(max_rel_diff(p.cpu_host(out), p.gpu_host(x)), 1e-5f) << "in place";
  }
}

// out = in · wᵀ for every weight type, decode-sized (matvec kernels, n <= 8) and prefill-sized
// (cuBLAS) batches, against a float64 product of the weights as stored (dequantized) and the
// F32 activations. (Not against the CPU backend: its Q8_0/Q4_0 kernels quantize the activations
// to 8 bits, an error the GPU kernels do not make.) The error bound of each output is
// tol * Σ_k |w_mk x_tk|: summation order in F32 (tol 1e-5) or the rounding of the activations
// to the weight's 16-bit type in the cuBLAS path (F16: 2^-11 per element; BF16: 2^-8);
// quantized weights are also rounded to F16 there (d * q needs more than 11 bits): twice 2^-11.
TEST(CudaKernels, MatmulEveryWeightTypeAndBatchSize) {
  for (const DecodeMode& mode : kDecodeModes) {
    SCOPED_TRACE(describe(mode));
    const ScopedDecodeMode scoped(mode);
    Pair p;
    for (DType t : kWeightTypes)
      for (auto [M, K] : {std::pair<int64_t, int64_t>{1, 32}, {67, 96}, {300, 544}, {37, 50}})
        for (int64_t n : {1, 3, 8, 9, 33}) {
          // Row lengths that are no multiple of 8 (16-bit kernels' narrow path) exist only for
          // the unquantized types.
          if (K % 32 != 0 && (t == DType::Q8_0 || t == DType::Q4_0)) continue;
          std::vector<float> wd;
          const auto w = p.weight(t, M, K, uint32_t(M + K), &wd);
          const auto xv = random_floats(size_t(n * K), uint32_t(n));
          const auto x = p.f32(n, K, xv);
          const auto out = p.zeros(DType::F32, n, M);
          p.gpu->matmul(out.g, x.g, w.g);
          const auto got = p.gpu_host(out);
          std::vector<double> expect(size_t(n * M));
          for (int64_t i = 0; i < n; ++i)
            for (int64_t m = 0; m < M; ++m)
              for (int64_t k = 0; k < K; ++k)
                expect[size_t(i * M + m)] += double(wd[size_t(m * K + k)]) * xv[size_t(i * K + k)];
          const bool rounded_activations = n > 8 && t != DType::F32;
          const bool quantized = t == DType::Q8_0 || t == DType::Q4_0;
          const float tol = !rounded_activations ? 1e-5f
                            : t == DType::BF16   ? 8e-3f
                            : quantized          ? 2e-3f
                                                 : 1e-3f;
          for (int64_t i = 0; i < n; ++i)
            for (int64_t m = 0; m < M; ++m) {
              double l1 = 0;
              for (int64_t k = 0; k < K; ++k)
                l1 += std::fabs(wd[size_t(m * K + k)] * xv[size_t(i * K + k)]);
              const size_t at = size_t(i * M + m);
              ASSERT_LE(std::fabs(expect[at] - got[at]), tol * l1 + 1e-6)
                  << dtype_name(t) << " M " << M << " K " << K << " n " << n << " at " << i << ","
                  << m;
            }
        }
  }
}

// The fused ops against the ops they stand for, on the GPU (which the tests above compare with
// the CPU and float64): matmul_many and matmul_swiglu run the same per-row sums as matmul
// (same loads per lane, same order), so they agree to the last bits (1e-6 relative leaves room
// for a different FMA contraction); add_rms_norm does add's additions and rms_norm's reduction.
// Decode sizes (the warp kernel, every mode) and n = 9 (the composed defaults).
TEST(CudaKernels, FusedOpsEqualTheOpsInSequence) {
  for (const DecodeMode& mode : kDecodeModes) {
    SCOPED_TRACE(describe(mode));
    const ScopedDecodeMode scoped(mode);
    Pair p;
    for (DType t : {DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0})
      for (int64_t K : {96, 544})
        for (int64_t n : {1, 3, 8, 9}) {
          SCOPED_TRACE(std::string(dtype_name(t)) + " K " + std::to_string(K) + " n " +
                       std::to_string(n));
          const auto x = p.f32(n, K, uint32_t(n + K));
          const int64_t rows[] = {300, 67, 5};
          std::vector<Pair::Tensor> ws, outs, alone;
          for (int i = 0; i < 3; ++i) {
            ws.push_back(p.weight(t, rows[i], K, uint32_t(100 * i + K)));
            outs.push_back(p.zeros(DType::F32, n, rows[i]));
            alone.push_back(p.zeros(DType::F32, n, rows[i]));
            p.gpu->matmul(alone.back().g, x.g, ws.back().g);
          }
          const TensorView gw[] = {ws[0].g, ws[1].g, ws[2].g};
          const TensorView go[] = {outs[0].g, outs[1].g, outs[2].g};
          p.gpu->matmul_many(go, x.g, gw);
          for (int i = 0; i < 3; ++i)
            EXPECT_LT(max_rel_diff(p.gpu_host(alone[size_t(i)]), p.gpu_host(outs[size_t(i)])),
                      1e-6f)
                << "matmul_many product " << i;

          const auto w_up = p.weight(t, rows[0], K, 7);
          const auto gate = p.zeros(DType::F32, n, rows[0]), up = p.zeros(DType::F32, n, rows[0]);
          p.gpu->matmul_swiglu(gate.g, up.g, x.g, ws[0].g, w_up.g);
          const auto up_alone = p.zeros(DType::F32, n, rows[0]);
          p.gpu->matmul(up_alone.g, x.g, w_up.g);
          p.gpu->swiglu(alone[0].g, up_alone.g);
          EXPECT_LT(max_rel_diff(p.gpu_host(alone[0]), p.gpu_host(gate)), 1e-6f) << "matmul_swiglu";
        }
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 3200}, {3, 96}, {2, 33}}) {
      const auto x = p.f32(rows, cols, 1), x2 = p.f32(rows, cols, 1);
      const auto y = p.f32(rows, cols, 2), y2 = p.f32(rows, cols, 2);
      const auto w = p.f32(1, cols, 3);
      p.gpu->add(x.g, y.g);
      p.gpu->rms_norm(y.g, x.g, w.g, 1e-5f);
      p.gpu->add_rms_norm(y2.g, x2.g, y2.g, w.g, 1e-5f);  // out = y, as the model calls it
      EXPECT_EQ(p.gpu_host(x), p.gpu_host(x2)) << "add_rms_norm residual " << rows << "x" << cols;
      EXPECT_EQ(p.gpu_host(y), p.gpu_host(y2)) << "add_rms_norm norm " << rows << "x" << cols;
    }
  }
}

TEST(CudaKernels, RopeMatchesDoublePrecisionAngles) {
  Pair p;
  for (int hd : {8, 64, 128}) {
    const int64_t n = 7, heads = 3;
    std::vector<int32_t> pos = {0, 1, 2, 100, 1000, 4095, 33}, slots(size_t(n), 0);
    const BatchLayout batch{pos, slots, 1};
    const auto x = p.f32(n, heads * hd, uint32_t(hd));
    p.cpu.rope(x.c, batch, RopeParams{.head_dim = hd});
    p.gpu->rope(x.g, batch, RopeParams{.head_dim = hd});
    // Same double-precision angles; cos/sin may differ in the last bit of the double.
    EXPECT_LT(max_rel_diff(p.cpu_host(x), p.gpu_host(x)), 2e-6f) << "head_dim " << hd;
    // NEOX pairs (qwen2/qwen3), a linear position scale and per-frequency divisors (llama3).
    const auto f = p.f32(1, hd / 2, random_floats(size_t(hd / 2), 9, 1.0f, 8.0f));
    for (RopeStyle style : {RopeStyle::Adjacent, RopeStyle::Neox}) {
      const auto y = p.f32(n, heads * hd, uint32_t(hd + 1));
      RopeParams cp{.head_dim = hd, .freq_base = 500000.0f, .style = style, .position_scale = 0.25f};
      RopeParams gp = cp;
      cp.freq_factors = f.c;
      gp.freq_factors = f.g;
      p.cpu.rope(y.c, batch, cp);
      p.gpu->rope(y.g, batch, gp);
      EXPECT_LT(max_rel_diff(p.cpu_host(y), p.gpu_host(y)), 2e-6f)
          << "head_dim " << hd << (style == RopeStyle::Neox ? " neox" : " adjacent");
    }
  }
}

TEST(CudaKernels, AddRowsIsExact) {
  Pair p;
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 3584}, {7, 512}, {3, 33}}) {
    const auto x = p.f32(rows, cols, 4);
    const auto b = p.f32(1, cols, 5);
    p.cpu.add_rows(x.c, b.c);
    p.gpu->add_rows(x.g, b.g);
    EXPECT_EQ(p.cpu_host(x), p.gpu_host(x)) << rows << "x" << cols;
  }
}

TEST(CudaKernels, SwigluAndAdd) {
  Pair p;
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {5, 173}, {9, 11008}}) {
    const auto g = p.f32(rows, cols, random_floats(size_t(rows * cols), 5, -8.0f, 8.0f));
    const auto u = p.f32(rows, cols, 6);
    p.cpu.swiglu(g.c, u.c);
    p.gpu->swiglu(g.g, u.g);
    EXPECT_LT(max_rel_diff(p.cpu_host(g), p.gpu_host(g)), 1e-6f);  // expf vs std::exp: 1-2 ulp
    p.cpu.add(g.c, u.c);
    p.gpu->add(g.g, u.g);
    EXPECT_LT(max_rel_diff(p.cpu_host(g), p.gpu_host(g)), 1e-6f);
  }
}

// A KV cache of `slots` sequences filled by store_kv, then attention of a batch over it.
struct AttentionCase {
  const char* name;
  AttentionShape shape;
  int64_t n_slots, n_ctx;
  std::vector<int32_t> positions, slots;  // the attending batch
};

std::vector<AttentionCase> attention_cases() {
  std::vector<AttentionCase> cases;
  // Prefill of 37 tokens in slot 1 (ragged), GQA 8 heads over 2.
  AttentionCase prefill{"prefill", {8, 2, 64}, 2, 64, {}, {}};
  for (int32_t i = 0; i < 37; ++i) {
    prefill.positions.push_back(i);
    prefill.slots.push_back(1);
  }
  cases.push_back(prefill);
  // Decode: one token per slot at very different depths (split-K over up to 3000 keys).
  cases.push_back({"decode", {4, 4, 128}, 3, 3072, {0, 2999, 700}, {0, 1, 2}});
  // A tiny head (stories260K: head_dim 8) and a chunk continuing a prompt.
  cases.push_back({"small head", {8, 4, 8}, 1, 512, {300, 301, 302, 303, 304}, {0, 0, 0, 0, 0}});
  // The largest head the kernel takes.
  cases.push_back({"head 256", {2, 1, 256}, 1, 300, {0, 150, 299}, {0, 0, 0}});
  // Sliding windows (Mistral): inside, at and past the window, and a decode split over many
  // key ranges of which the window keeps the last.
  cases.push_back({"window 8", {4, 2, 64, 8}, 2, 64, {0, 7, 8, 9, 63, 30}, {0, 0, 0, 0, 1, 1}});
  cases.push_back({"window 100", {4, 4, 128, 100}, 2, 3072, {2999, 50}, {0, 1}});
  return cases;
}

TEST(CudaKernels, StoreKvAndAttentionBothCacheTypes) {
  for (const auto& tc : attention_cases())
    for (DType kv_type : {DType::F32, DType::F16}) {
      Pair p;
      const auto& s = tc.shape;
      const int64_t kv_dim = int64_t(s.n_head_kv) * s.head_dim;
      const int64_t rows = tc.n_slots * tc.n_ctx;
      const auto kc = p.zeros(kv_type, rows, kv_dim), vc = p.zeros(kv_type, rows, kv_dim);
      const KvView cpu_kv{kc.c, vc.c, tc.n_ctx}, gpu_kv{kc.g, vc.g, tc.n_ctx};
      // Fill every position of every slot (one store per slot: a prefill of the whole context).
      for (int64_t slot = 0; slot < tc.n_slots; ++slot) {
        std::vector<int32_t> pos(size_t(tc.n_ctx)), sl(size_t(tc.n_ctx), int32_t(slot));
        for (int64_t i = 0; i < tc.n_ctx; ++i) pos[size_t(i)] = int32_t(i);
        const BatchLayout fill{pos, sl, uint64_t(slot + 1)};
        const auto k = p.f32(tc.n_ctx, kv_dim, uint32_t(100 + slot));
        const auto v = p.f32(tc.n_ctx, kv_dim, uint32_t(200 + slot));
        p.cpu.store_kv(cpu_kv, k.c, v.c, fill);
        p.gpu->store_kv(gpu_kv, k.g, v.g, fill);
      }
      // store_kv is exact: compare the raw cache bytes (an F16 cache seen as pairs in F32 words).
      const int64_t words = kv_type == DType::F16 ? kv_dim / 2 : kv_dim;
      for (const auto& c : {kc, vc}) {
        const TensorView cw{c.c.data, DType::F32, rows, words},
            gw{c.g.data, DType::F32, rows, words};
        const auto a = p.host(p.cpu, cw), b = p.host(*p.gpu, gw);
        EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4)) << tc.name << " store_kv";
      }

      const int64_t n = int64_t(tc.positions.size());
      const BatchLayout batch{tc.positions, tc.slots, 100};
      const auto q = p.f32(n, int64_t(s.n_head) * s.head_dim, 7);
      const auto out = p.zeros(DType::F32, n, int64_t(s.n_head) * s.head_dim);
      p.cpu.attention(out.c, q.c, cpu_kv, batch, s);
      p.gpu->attention(out.g, q.g, gpu_kv, batch, s);
      // Outputs are convex combinations of values in [-1, 1]. F32 cache: summation order only.
      // F16 cache: the GPU rounds softmax weights relative to a running maximum rather than
      // the normalized weights, a difference of up to one F16 ulp (2^-11) per weight.
      const float tol = kv_type == DType::F32 ? 1e-5f : 2e-3f;
      EXPECT_LT(max_rel_diff(p.cpu_host(out), p.gpu_host(out)), tol)
          << tc.name << ", kv " << dtype_name(kv_type);
    }
}

// argmax_rows: the GPU's index per row equals the host scan's (std::max_element, as the
// sampler's argmax): random rows, a maximum repeated (the first wins), a NaN in column 0
// (wins), NaNs elsewhere (passed over), a row of -inf, a vocabulary-sized and a tiny width.
TEST(CudaKernels, ArgmaxRowsLikeTheHost) {
  Pair p;
  const float nan = std::nanf("");
  for (int64_t cols : {int64_t(7), int64_t(32000)}) {
    const int64_t rows = 6;
    auto v = random_floats(size_t(rows * cols), uint32_t(cols));
    auto row = [&](int64_t r) { return v.begin() + r * cols; };
    row(1)[cols / 2] = 5.0f;  // a maximum twice: the first wins
    row(1)[cols - 1] = 5.0f;
    row(2)[0] = nan;         // NaN first: it wins
    row(3)[cols / 3] = nan;  // NaN later: passed over
    row(3)[cols - 2] = 3.0f;
    std::fill(row(4), row(4) + cols, -INFINITY);
    std::fill(row(5), row(5) + cols, 0.25f);
    const auto x = p.f32(rows, cols, v);
    std::vector<int32_t> want(static_cast<size_t>(rows)), got(static_cast<size_t>(rows));
    p.cpu.argmax_rows(want, x.c);
    p.gpu->argmax_rows(got, x.g);
    EXPECT_EQ(got, want) << "cols " << cols;
    EXPECT_EQ(want[1], int32_t(cols / 2));  // the host semantics the GPU must follow
    EXPECT_EQ(want[2], 0);
    EXPECT_EQ(want[4], 0);
  }
}

// rope_store_kv against rope, rope and store_kv on the GPU (which the tests above compare
// with the CPU): the same arithmetic, so q, k and both caches are bit-identical. Two slots,
// positions out of order across slots, both cache types; also in the block mode, where the
// fused op is the sequence itself.
TEST(CudaKernels, RopeStoreKvEqualsTheOpsInSequence) {
  for (const DecodeMode& mode : {kDecodeModes[0], kDecodeModes[3]})
    for (DType kv_type : {DType::F32, DType::F16})
      for (RopeStyle style : {RopeStyle::Adjacent, RopeStyle::Neox}) {
        SCOPED_TRACE(describe(mode) + ", kv " + std::string(dtype_name(kv_type)) +
                     (style == RopeStyle::Neox ? ", neox" : ", adjacent"));
        const RopeParams rope{.head_dim = 64, .style = style};
        const ScopedDecodeMode scoped(mode);
        Pair p;
        const int head_dim = 64;
        const int64_t n = 5, n_ctx = 64, q_dim = 8 * head_dim, kv_dim = 2 * head_dim;
        std::vector<int32_t> pos = {5, 6, 7, 0, 63}, slots = {0, 0, 0, 1, 1};
        const BatchLayout batch{pos, slots, 1};
        const auto kc1 = p.zeros(kv_type, 2 * n_ctx, kv_dim),
                   vc1 = p.zeros(kv_type, 2 * n_ctx, kv_dim);
        const auto kc2 = p.zeros(kv_type, 2 * n_ctx, kv_dim),
                   vc2 = p.zeros(kv_type, 2 * n_ctx, kv_dim);
        const auto q1 = p.f32(n, q_dim, 1), q2 = p.f32(n, q_dim, 1);
        const auto k1 = p.f32(n, kv_dim, 2), k2 = p.f32(n, kv_dim, 2);
        const auto v = p.f32(n, kv_dim, 3);
        p.gpu->rope(q1.g, batch, rope);
        p.gpu->rope(k1.g, batch, rope);
        p.gpu->store_kv({kc1.g, vc1.g, n_ctx}, k1.g, v.g, batch);
        p.gpu->rope_store_kv(q2.g, k2.g, v.g, {kc2.g, vc2.g, n_ctx}, batch, rope);
        EXPECT_EQ(p.gpu_host(q1), p.gpu_host(q2)) << "q";
        EXPECT_EQ(p.gpu_host(k1), p.gpu_host(k2)) << "k";
        // The raw cache bytes (an F16 cache seen as pairs in F32 words: memcmp, not float ==).
        const int64_t words = kv_type == DType::F16 ? kv_dim / 2 : kv_dim;
        for (const auto& [a, b] : {std::pair{kc1, kc2}, std::pair{vc1, vc2}}) {
          const auto ha = p.host(*p.gpu, {a.g.data, DType::F32, 2 * n_ctx, words});
          const auto hb = p.host(*p.gpu, {b.g.data, DType::F32, 2 * n_ctx, words});
          EXPECT_EQ(0, std::memcmp(ha.data(), hb.data(), ha.size() * 4)) << "cache";
        }
      }
}

// The A/B switches of the decode kernels refuse values they do not know, naming them, when
// the backend is created (not at the first product).
TEST(CudaKernels, DecodeSwitchesRejectUnknownValues) {
  for (const DecodeMode& bad : {DecodeMode{"fast", ""}, DecodeMode{"warp", "3"}}) {
    const ScopedDecodeMode scoped(bad);
    try {
      make_cuda_backend({});
      FAIL() << "accepted " << describe(bad);
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(*bad.rows ? "LLMPIPE_CUDA_WARP_ROWS=3: expected 1 or 2"
                                    : "LLMPIPE_CUDA_DECODE=fast: expected warp or block"),
                std::string::npos)
          << what;
    }
  }
}

// Inputs the kernels cannot take are refused with the shapes named, before any launch: k and v
// of other widths than the cache (the kernels index both by k's width), an output that is not
// F32, an argmax of empty rows (index 0, like the host's scan, without reading the row).
TEST(CudaKernels, ShapeErrorsAreRefusedBeforeLaunch) {
  Pair p;
  const int64_t n_ctx = 8, kv_dim = 64;
  const auto kc = p.zeros(DType::F16, n_ctx, kv_dim), vc = p.zeros(DType::F16, n_ctx, 2 * kv_dim);
  const auto k = p.f32(1, kv_dim, 1), v = p.f32(1, 2 * kv_dim, 2);
  std::vector<int32_t> pos = {0}, slot = {0};
  const BatchLayout batch{pos, slot, 1};
  auto expect_error = [](auto&& call, const std::string& needle) {
    try {
      call();
      ADD_FAILURE() << "accepted; expected an error naming: " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error([&] { p.gpu->store_kv({kc.g, vc.g, n_ctx}, k.g, v.g, batch); },
               "expected k and v of the caches' width");
  const auto q = p.f32(1, kv_dim, 3);
  expect_error(
      [&] { p.gpu->rope_store_kv(q.g, k.g, v.g, {kc.g, vc.g, n_ctx}, batch, RopeParams{.head_dim = 32}); },
      "expected k and v of the caches' width");
  const auto x = p.f32(1, kv_dim, 4), w = p.f32(1, kv_dim, 5);
  const auto out16 = p.zeros(DType::F16, 1, kv_dim);
  expect_error([&] { p.gpu->rms_norm(out16.g, x.g, w.g, 1e-5f); }, "rms_norm output");
  // (In the block mode add_rms_norm is add + rms_norm, whose message this also matches.)
  expect_error([&] { p.gpu->add_rms_norm(out16.g, x.g, x.g, w.g, 1e-5f); }, "rms_norm output");
  const auto one = p.zeros(DType::F32, 2, 1);  // seen as two rows of no columns
  std::vector<int32_t> want(2, -1), got(2, -1);
  p.cpu.argmax_rows(want, {one.c.data, DType::F32, 2, 0});
  p.gpu->argmax_rows(got, {one.g.data, DType::F32, 2, 0});
  EXPECT_EQ(got, want);
  EXPECT_EQ(want, std::vector<int32_t>(2, 0));
}

// ---- the whole model ----

struct Reference {
  std::vector<int32_t> prompt_tokens, greedy_tokens;
  std::vector<float> first_step_logits;
};

std::vector<Reference> load_references() {
  std::ifstream f(std::string(LLMPIPE_TEST_DATA) + "/stories260K-greedy.jsonl");
  std::vector<Reference> refs;
  for (std::string line; std::getline(f, line);) {
    const auto j = nlohmann::json::parse(line);
    refs.push_back({j["prompt_tokens"], j["greedy_tokens"], j["first_step_logits"]});
  }
  return refs;
}

GenerationResult run_greedy(Backend& backend, DType kv_type, const Reference& ref, int64_t chunk) {
  const auto file = std::make_shared<const gguf::Reader>(gguf::Reader::open(LLMPIPE_MODEL));
  const GgufTensorSource source{file};
  const LlamaHParams h = hparams_from_gguf(*file);
  const StageSpec spec{{0, h.n_layer}, true, true};
  LlamaStage stage(h, spec, load_stage_weights(source, h, spec, backend), backend,
                   {h.n_layer, 1, h.n_ctx_train, h.kv_dim(), kv_type}, chunk, 1);
  Generator gen(stage);
  Sampler greedy({});
  return gen.generate(ref.prompt_tokens, {2, 128, h.n_ctx_train}, greedy);
}

// P = 1: the GPU's greedy tokens are the CPU's (which are llama.cpp's), with either cache type
// and prompt chunks of 4 (matvec kernels) or 64 tokens (cuBLAS path).
TEST(CudaModel, Stories260KGreedyTokensMatchCpu) {
  const auto refs = load_references();
  ASSERT_GE(refs.size(), 3u);
  CpuBackend cpu({.threads = 2});
  const auto gpu = make_cuda_backend({});
  for (DType kv : {DType::F16, DType::F32})
    for (int64_t chunk : {4, 64})
      for (const auto& ref : refs) {
        const auto expect = run_greedy(cpu, kv, ref, chunk);
        const auto got = run_greedy(*gpu, kv, ref, chunk);
        EXPECT_EQ(got.tokens, expect.tokens) << "kv " << dtype_name(kv) << ", chunk " << chunk;
        EXPECT_EQ(got.tokens, ref.greedy_tokens);
        float diff = 0;
        for (size_t i = 0; i < got.first_step_logits.size(); ++i)
          diff = std::max(diff, std::fabs(got.first_step_logits[i] - expect.first_step_logits[i]));
        // F32 cache: summation order only; F16 cache: plus the softmax-weight rounding above.
        EXPECT_LT(diff, kv == DType::F32 ? 1e-4f : 5e-3f) << "kv " << dtype_name(kv);
      }
}

// Every matmul weight type through the model (the decode kernels see gate/up with swiglu and
// q/k/v as one product): stories260K converted to F16, BF16, Q8_0 and Q4_0 at load, prompt
// chunks of 4 (decode-sized passes only), against the CPU's scalar reference kernels, which
// multiply the same weights with unrounded F32 activations as the GPU kernels do (the SIMD
// CPU kernels quantize them): greedy tokens equal, first-step logits within summation order.
TEST(CudaModel, Stories260KConvertedWeightsMatchCpuReference) {
  const auto refs = load_references();
  ASSERT_FALSE(refs.empty());
  const auto file = std::make_shared<const gguf::Reader>(gguf::Reader::open(LLMPIPE_MODEL));
  const auto gguf_source = std::make_shared<const GgufTensorSource>(file);
  const LlamaHParams h = hparams_from_gguf(*file);
  const StageSpec spec{{0, h.n_layer}, true, true};
  auto greedy = [&](Backend& backend, const TensorSource& source, const Reference& ref) {
    LlamaStage stage(h, spec, load_stage_weights(source, h, spec, backend), backend,
                     {h.n_layer, 1, h.n_ctx_train, h.kv_dim(), DType::F32}, 4, 1);
    Generator gen(stage);
    Sampler sampler({});
    return gen.generate(ref.prompt_tokens, {2, 64, h.n_ctx_train}, sampler);
  };
  CpuBackend cpu({.threads = 2, .isa = cpu::CpuIsa::Scalar});
  for (DType t : {DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
    const ConvertingTensorSource source(gguf_source, t);
    for (const DecodeMode& mode : {kDecodeModes[0], kDecodeModes[3]}) {
      const ScopedDecodeMode scoped(mode);
      const auto gpu = make_cuda_backend({});
      for (const auto& ref : refs) {
        const auto expect = greedy(cpu, source, ref);
        const auto got = greedy(*gpu, source, ref);
        EXPECT_EQ(got.tokens, expect.tokens) << dtype_name(t) << ", " << describe(mode);
        float diff = 0;
        for (size_t i = 0; i < got.first_step_logits.size(); ++i)
          diff = std::max(diff, std::fabs(got.first_step_logits[i] - expect.first_step_logits[i]));
        EXPECT_LT(diff, 1e-4f) << dtype_name(t) << ", " << describe(mode);
      }
    }
  }
}

}  // namespace
}  // namespace llmpipe

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const llmpipe::CudaProbe probe = llmpipe::probe_cuda();
  if (probe.state == llmpipe::CudaProbe::State::Absent) {
    std::printf("skipped: no GPU (%s)\n", probe.detail.c_str());
    return 77;  // CTest: SKIP_RETURN_CODE
  }
  if (probe.state == llmpipe::CudaProbe::State::Broken) {  // a failure, never a skip
    std::fprintf(stderr, "FAILED: %s\n", probe.detail.c_str());
    return 1;
  }
  std::printf("%s\n", llmpipe::cuda_device_summary().c_str());
  return RUN_ALL_TESTS();
}
