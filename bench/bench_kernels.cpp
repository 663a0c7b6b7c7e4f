// Kernel microbenchmark (not a test): matmul GEMV (decode, 1 row) and GEMM (prefill, 512 rows)
// with OpenLLaMA-3B shapes (LLaMA-2-7B's for the 256-element super-block types) per weight dtype, and attention, for every instruction-set level the
// CPU supports (scalar = the portable reference kernels), in one run so the numbers compare.
// Every type is timed in both layouts where the level has packed kernels (AVX-512): "rows" (GGUF
// row-major, `--weights mmap|copy`) and "packed" (the default `--weights packed`).
//
//   build/bench_kernels [--threads N] [--reps R] [--gemm-rows N] [--ref-gemm-rows N]
//                       [--only matmul|attention|<dtype, e.g. q4_k>] [--hot 1]
//
// GEMV: weights rotate over copies totalling >= 1 GiB so that each call streams its weights from
// DRAM (the decode situation), reported as GB/s of weights and as tok/s-equivalent: that rate
// over the weight bytes of the whole 3B model (26 layers + output) in the same dtype.
// GEMM: GFLOP/s (2·n·m·k per call); the scalar reference runs fewer rows (it's ~100x slower).
// Times: best of the repetitions, in CPU time per thread (see now()).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/cpu_isa.h"
#include "kernels/cpu/packed_weights.h"
#include "kernels/cpu/quantize.h"

using namespace llmpipe;
using cpu::CpuIsa;

namespace {

// The shapes timed: OpenLLaMA-3B's, or LLaMA-2-7B's for the types with 256-element super-blocks
// (3200-wide rows are not whole super-blocks).
struct ModelShape {
  const char* name;
  int64_t hidden, ffn, vocab, layers;
  double params() const {
    return double(layers) * (4.0 * double(hidden * hidden) + 3.0 * double(hidden * ffn)) +
           double(vocab * hidden);
  }
};
constexpr ModelShape k3B{"OpenLLaMA-3B", 3200, 8640, 32000, 26};
constexpr ModelShape k7B{"LLaMA-2-7B", 4096, 11008, 32000, 32};
const ModelShape& shape_for(DType t) { return dtype_block_size(t) == 256 ? k7B : k3B; }

// The machine is shared (other builds compete for its 2 cores), so wall time measures the
// neighbours as much as the kernels. Times here are process CPU time divided by the thread
// count: the time the kernels were actually running (memory stalls included), which is what
// they would take on an idle machine if the threads are balanced. Best of the repetitions.
int g_threads = 1;
double now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9) / g_threads;
}

double bytes_per_param(DType t) {
  return double(dtype_row_bytes(t, 256)) / 256.0;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// One weight [m, k] of `type` from random values (rows quantized once, then repeated: speed does
// not depend on the values and quantizing 100M values per dtype would dominate the run).
std::vector<uint8_t> make_weight(DType type, int64_t m, int64_t k) {
  const size_t rb = dtype_row_bytes(type, k);
  std::vector<uint8_t> w(rb * size_t(m));
  const int64_t distinct = std::min<int64_t>(m, 64);
  const auto f = random_floats(size_t(distinct * k), 1);
  for (int64_t r = 0; r < distinct; ++r)
    cpu::quantize_row(type, f.data() + r * k, w.data() + r * rb, k);
  for (int64_t r = distinct; r < m; ++r)
    std::memcpy(w.data() + r * rb, w.data() + (r % distinct) * rb, rb);
  return w;
}

struct Args {
  int threads = 0;
  int reps = 20;
  int64_t gemm_rows = 512;
  int64_t ref_gemm_rows = 16;
  std::string only;  // "matmul", "attention" or a dtype name; empty: everything
  bool hot = false;  // GEMV on one weight copy (L3-resident): shows compute limits
};

// Memory bandwidth of this machine, the roofline of decode GEMV: glibc's memcpy (wide loads,
// non-temporal stores at this size) of 512 MiB split over the threads, counting read + write.
double copy_bandwidth(CpuBackend& be) {
  const size_t n = size_t(512) << 20;
  std::vector<uint8_t> a(n, 1), b(n, 0);
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    const double t0 = now();
    be.pool().parallel_for(
        int64_t(n),
        [&](int64_t s, int64_t e, int) { std::memcpy(b.data() + s, a.data() + s, size_t(e - s)); },
        1 << 20);
    best = std::min(best, now() - t0);
  }
  return 2.0 * double(n) / best / 1e9;
}

// One weight layout to time: `copies` weights of `bytes` each, back to back from `base`, read
// through views like `view` (the first copy's).
struct WeightPool {
  const char* layout;  // "rows" (GGUF row-major) or "packed" (16-row interleaved, packed_weights.h)
  const uint8_t* base;
  size_t bytes;
  int copies;
  TensorView view;
  TensorView copy(int c) const {
    TensorView v = view;
    v.data = const_cast<uint8_t*>(base) + size_t(c) * bytes;
    return v;
  }
};

// `w0` repeated until the copies total >= 1 GiB (one copy with --hot).
std::vector<uint8_t> replicate(const Args& args, const void* w0, size_t bytes, int& copies) {
  copies = args.hot ? 1 : int(std::max<size_t>(2, ((size_t(1) << 30) + bytes - 1) / bytes));
  std::vector<uint8_t> pool(bytes * size_t(copies));
  for (int c = 0; c < copies; ++c) std::memcpy(pool.data() + size_t(c) * bytes, w0, bytes);
  return pool;
}

// GEMV (one row, each call on the next copy: weights from DRAM) and, when `gemm`, GEMM of n rows
// on one copy, of `weights` with `be`'s kernels.
void time_matmul(const Args& args, CpuBackend& be, const WeightPool& weights, const char* what,
                 bool gemm) {
  const TensorView w0 = weights.view;
  const int64_t m = w0.rows, k = w0.cols;
  const std::string type(dtype_name(w0.dtype)), isa(cpu::cpu_isa_name(be.isa()));
  const bool scalar = be.isa() == CpuIsa::Scalar;
  Buffer xb = be.alloc(size_t(k) * 4), yb = be.alloc(size_t(m) * 4);
  const auto xf = random_floats(size_t(k), 2);
  std::memcpy(xb.data(), xf.data(), xf.size() * 4);
  const TensorView x = xb.view(DType::F32, 1, k), y = yb.view(DType::F32, 1, m);
  const int reps = scalar ? std::max(3, args.reps / 4) : args.reps;
  std::vector<double> times;
  for (int r = 0; r < reps + 1; ++r) {
    const double t0 = now();
    be.matmul(y, x, weights.copy(r % weights.copies));
    if (r > 0) times.push_back(now() - t0);  // first call warms the pool and scratch
  }
  const double t = *std::min_element(times.begin(), times.end());
  const double gbs = double(weights.bytes) / t / 1e9;
  std::printf("  %-6s %-22s %-7s %-6s gemv  %8.3f ms  %7.2f GB/s  %7.2f tok/s-eq\n", type.c_str(),
              what, isa.c_str(), weights.layout, t * 1e3, gbs,
              gbs * 1e9 / (shape_for(w0.dtype).params() * bytes_per_param(w0.dtype)));
  std::fflush(stdout);
  if (!gemm) return;
  const int64_t n = scalar ? args.ref_gemm_rows : args.gemm_rows;
  Buffer xn = be.alloc(size_t(n * k) * 4), yn = be.alloc(size_t(n * m) * 4);
  const auto xnf = random_floats(size_t(n * k), 3);
  std::memcpy(xn.data(), xnf.data(), xnf.size() * 4);
  const TensorView X = xn.view(DType::F32, n, k), Y = yn.view(DType::F32, n, m);
  be.matmul(Y, X, w0);
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    const double t0 = now();
    be.matmul(Y, X, w0);
    best = std::min(best, now() - t0);
  }
  std::printf("  %-6s %-22s %-7s %-6s gemm  %8.3f ms  %7.1f GFLOP/s  (%lld rows)\n", type.c_str(),
              what, isa.c_str(), weights.layout, best * 1e3,
              2.0 * double(n) * double(m) * double(k) / best / 1e9, (long long)n);
  std::fflush(stdout);
}

// Per shape and instruction-set level: the row-major kernels, then the packed ones where the
// level has them for `type` (every type with AVX-512: what the engine runs by default).
void bench_matmul(const Args& args, DType type, const std::vector<CpuIsa>& levels) {
  struct Shape {
    int64_t m, k;
    const char* what;
  };
  const ModelShape& ms = shape_for(type);
  const std::string up = "ffn up/gate " + std::to_string(ms.ffn) + "x" + std::to_string(ms.hidden);
  const std::string down = "ffn down " + std::to_string(ms.hidden) + "x" + std::to_string(ms.ffn);
  for (Shape s : {Shape{ms.ffn, ms.hidden, up.c_str()}, Shape{ms.hidden, ms.ffn, down.c_str()}}) {
    const bool gemm = s.m == ms.ffn;  // GEMM on one shape only: it's compute-bound either way
    const auto w0 = make_weight(type, s.m, s.k);
    int copies = 0;
    const auto rows = replicate(args, w0.data(), w0.size(), copies);
    const WeightPool row_major{"rows", rows.data(), w0.size(), copies,
                               TensorView{const_cast<uint8_t*>(rows.data()), type, s.m, s.k}};
    for (CpuIsa isa : levels) {
      CpuBackend be({.threads = args.threads, .isa = isa});
      time_matmul(args, be, row_major, s.what, gemm);
      std::vector<Buffer> keep;
      const TensorView packed = be.place_weight(type, s.m, s.k, w0.data(), keep, WeightUse::Matmul);
      if (packed.packed_rows == 0) continue;  // no packed kernel for this type and level
      const size_t bytes = cpu::packed_bytes(type, s.m, s.k);
      int packed_copies = 0;
      const auto pool = replicate(args, packed.data, bytes, packed_copies);
      TensorView first = packed;
      first.data = const_cast<uint8_t*>(pool.data());
      time_matmul(args, be, WeightPool{"packed", pool.data(), bytes, packed_copies, first}, s.what,
                  gemm);
    }
  }
}

// OpenLLaMA-3B attention: 32 heads of 100; decode over 512 cached positions and a 512-token
// prefill (causal), F16 and F32 caches.
void bench_attention(const Args& args, const std::vector<CpuIsa>& levels) {
  const int n_head = 32, hd = 100;
  const int64_t n_ctx = 512, cols = int64_t(n_head) * hd;
  for (DType kv : {DType::F16, DType::F32})
    for (CpuIsa isa : levels) {
      CpuBackend be({.threads = args.threads, .isa = isa});
      const size_t elt = kv == DType::F16 ? 2 : 4;
      Buffer kb = be.alloc(size_t(n_ctx * cols) * elt), vb = be.alloc(size_t(n_ctx * cols) * elt);
      const KvView cache{kb.view(kv, n_ctx, cols), vb.view(kv, n_ctx, cols), n_ctx};
      const auto f = random_floats(size_t(cols), 4);
      for (int64_t r = 0; r < n_ctx; ++r) {
        cpu::quantize_row(kv, f.data(), cache.k.rows_slice(r, 1).data, cols);
        cpu::quantize_row(kv, f.data(), cache.v.rows_slice(r, 1).data, cols);
      }
      for (int64_t n : {int64_t(1), n_ctx}) {
        std::vector<int32_t> pos(static_cast<size_t>(n)), slot(static_cast<size_t>(n), 0);
        for (int64_t i = 0; i < n; ++i) pos[size_t(i)] = int32_t(n == 1 ? n_ctx - 1 : i);
        const BatchLayout batch{pos, slot, 1};
        Buffer qb = be.alloc(size_t(n * cols) * 4), ob = be.alloc(size_t(n * cols) * 4);
        const auto qf = random_floats(size_t(n * cols), 5);
        std::memcpy(qb.data(), qf.data(), qf.size() * 4);
        const TensorView q = qb.view(DType::F32, n, cols), o = ob.view(DType::F32, n, cols);
        const AttentionShape shape{n_head, n_head, hd};
        be.attention(o, q, cache, batch, shape);
        double best = 1e30;
        const int reps = n == 1 ? 20 : 2;
        for (int r = 0; r < reps; ++r) {
          const double t0 = now();
          be.attention(o, q, cache, batch, shape);
          best = std::min(best, now() - t0);
        }
        std::printf("  attention kv=%-4s %-7s %-22s %9.3f ms\n",
                    std::string(dtype_name(kv)).c_str(),
                    std::string(cpu::cpu_isa_name(isa)).c_str(),
                    n == 1 ? "decode (512 keys)" : "prefill (512 tokens)", best * 1e3);
        std::fflush(stdout);
      }
    }
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads")
      args.threads = std::atoi(argv[i + 1]);
    else if (a == "--reps")
      args.reps = std::atoi(argv[i + 1]);
    else if (a == "--gemm-rows")
      args.gemm_rows = std::atoll(argv[i + 1]);
    else if (a == "--ref-gemm-rows")
      args.ref_gemm_rows = std::atoll(argv[i + 1]);
    else if (a == "--only")
      args.only = argv[i + 1];
    else if (a == "--hot")
      args.hot = std::string(argv[i + 1]) == "1";
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (args.threads <= 0) args.threads = available_cpus();
  g_threads = args.threads;
  const auto levels = cpu::supported_cpu_isas();
  std::printf("bench_kernels: %d threads, levels:", args.threads);
  for (CpuIsa l : levels) std::printf(" %s", std::string(cpu::cpu_isa_name(l)).c_str());
  std::printf(" (detected %s)\n", std::string(cpu::cpu_isa_name(cpu::detect_cpu_isa())).c_str());
  {
    CpuBackend be({.threads = args.threads});
    std::printf("memory bandwidth (memcpy 512 MiB, read + write, %d threads): %.2f GB/s\n",
                args.threads, copy_bandwidth(be));
  }
  std::printf("tok/s-eq = GEMV GB/s / weight bytes of the shape's model in that dtype (%s %.2fG, "
              "%s %.2fG params)\n", k3B.name, k3B.params() / 1e9, k7B.name, k7B.params() / 1e9);
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::F16, DType::BF16, DType::F32, DType::Q4_1,
                  DType::Q5_0, DType::Q5_1, DType::IQ4_NL, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                  DType::Q5_K, DType::Q6_K, DType::IQ4_XS})
    if (args.only.empty() || args.only == "matmul" || args.only == dtype_name(t))
      bench_matmul(args, t, levels);
  if (args.only.empty() || args.only == "attention") bench_attention(args, levels);
  return 0;
}
