// CUDA decode-product microbenchmark (not a test; built with -DLLMPIPE_CUDA=ON): the variants of
// the one-token decode products on OpenLLaMA-3B shapes, in one run beside the device's read
// bandwidth, so that they compare on one machine. Weights stream from device memory: copies
// rotate over more than 4x the L2 cache, as in a decode step, where every weight is read once.
//
//   build-cuda/bench_cuda_matvec [--iters N] [--only bf16|q8_0|q4_0]
//
// Variants: "block" (the block kernels, one launch per product plus the swiglu kernel: the
// baseline) and the warp kernel with 1 or 2 rows per warp and 4 or 8 loads in flight per lane.
// Per (type, shape, variant): microseconds per call, GB/s of weight bytes, the fraction of the
// measured read bandwidth, and the largest relative difference of the output from the block
// kernel's (a broken variant shows there; correctness is tested in tests/cuda).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/quantize.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/matvec_blocks.cuh"
#include "kernels/cuda/matvec_warp.cuh"
#include "kernels/cuda/raii.cuh"

using namespace llmpipe;
using namespace llmpipe::cuda;

namespace {

struct Shape {
  const char* name;
  int64_t M, K;
  int products;  // weights of M x K sharing the input
  MatvecEpilogue epilogue;
};
constexpr Shape kShapes[] = {
    {"o 3200x3200", 3200, 3200, 1, MatvecEpilogue::Store},
    {"q,k,v 3x 3200x3200", 3200, 3200, 3, MatvecEpilogue::Store},
    {"gate,up+swiglu 2x 8640x3200", 8640, 3200, 2, MatvecEpilogue::Swiglu},
    {"down 3200x8640", 3200, 8640, 1, MatvecEpilogue::Store},
};

// One set of a shape's weights on the device (split layout for Q8_0/Q4_0), in `copies` copies.
struct Weights {
  std::vector<DeviceScratch> buffers;  // [copy * products + product]
  std::vector<TensorView> views;       // the same order
};

Weights make_weights(DType t, const Shape& s, int copies, cudaStream_t stream) {
  std::mt19937 rng(uint32_t(s.M + s.K));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const size_t row_bytes = dtype_row_bytes(t, s.K), bytes = row_bytes * size_t(s.M);
  std::vector<float> values(size_t(s.K));
  std::vector<uint8_t> host(bytes);
  DeviceScratch staging;
  void* stage = staging.get(bytes, stream);
  Weights w;
  w.buffers.resize(size_t(copies * s.products));
  w.views.resize(w.buffers.size());
  for (int p = 0; p < s.products; ++p) {
    for (int64_t r = 0; r < s.M; ++r) {
      for (auto& v : values) v = dist(rng);
      cpu::quantize_row(t, values.data(), host.data() + size_t(r) * row_bytes, s.K);
    }
    CUDA_CHECK(cudaMemcpyAsync(stage, host.data(), bytes, cudaMemcpyHostToDevice, stream));
    for (int c = 0; c < copies; ++c) {
      void* dst = w.buffers[size_t(c * s.products + p)].get(bytes, stream);
      TensorView v{dst, t, s.M, s.K};
      if (t == DType::Q8_0 || t == DType::Q4_0) {
        split_quantized(dst, stage, t, s.M, s.K, stream);
        v.packed_rows = kSplitScales;
      } else {
        CUDA_CHECK(cudaMemcpyAsync(dst, stage, bytes, cudaMemcpyDeviceToDevice, stream));
      }
      w.views[size_t(c * s.products + p)] = v;
    }
    CUDA_CHECK(cudaStreamSynchronize(stream));  // the host bytes are rewritten next
  }
  return w;
}

// Runs one call of a variant: the products of `ws` (shape s) with input x into outs.
using Run = std::function<void(const Shape& s, const TensorView* ws, const TensorView* outs,
                               TensorView x, cudaStream_t stream)>;
struct Variant {
  std::string name;
  Run run;
};

template <typename F, int kR, int kLoads>
Variant warp_variant() {
  return {"warp r" + std::to_string(kR) + " l" + std::to_string(kLoads),
          [](const Shape& s, const TensorView* ws, const TensorView* outs, TensorView x,
             cudaStream_t stream) {
            MatvecGroup g;
            g.x = static_cast<const float*>(x.data);
            g.K = s.K;
            g.n_tokens = 1;
            g.count = s.products;
            for (int i = 0; i < s.products; ++i) {
              g.w[i] = ws[i].data;
              g.out[i] = static_cast<float*>(outs[i].data);
              g.rows[i] = s.M;
            }
            const unsigned blocks = plan_matvec_warps(g, s.epilogue, kR);
            if (s.epilogue == MatvecEpilogue::Swiglu)
              matvec_warp_kernel<F, kR, 1, MatvecEpilogue::Swiglu, kLoads>
                  <<<blocks, kMatvecWarpsPerBlock * kWarp, 0, stream>>>(g);
            else
              matvec_warp_kernel<F, kR, 1, MatvecEpilogue::Store, kLoads>
                  <<<blocks, kMatvecWarpsPerBlock * kWarp, 0, stream>>>(g);
            CUDA_CHECK_LAUNCH();
          }};
}

Variant block_variant(DType t) {
  return {"block", [t](const Shape& s, const TensorView* ws, const TensorView* outs, TensorView x,
                       cudaStream_t stream) {
            for (int i = 0; i < s.products; ++i) {
              if (t == DType::Q8_0) matvec_q8_0_f32(outs[i], x, ws[i], stream);
              if (t == DType::Q4_0) matvec_q4_0_f32(outs[i], x, ws[i], stream);
              if (t == DType::BF16) matvec_bf16_f32(outs[i], x, ws[i], stream);
            }
            if (s.epilogue == MatvecEpilogue::Swiglu)
              swiglu_f32(static_cast<float*>(outs[0].data), static_cast<const float*>(outs[1].data),
                         s.M, stream);
          }};
}

template <typename F>
std::vector<Variant> variants(DType t) {
  return {block_variant(t), warp_variant<F, 1, 8>(), warp_variant<F, 1, 4>(),
          warp_variant<F, 2, 8>(), warp_variant<F, 2, 4>()};
}

void bench_type(DType t, const std::vector<Variant>& vs, int iters, double bw_gbs,
                cudaStream_t stream) {
  for (const Shape& s : kShapes) {
    const size_t set_bytes = dtype_row_bytes(t, s.K) * size_t(s.M) * size_t(s.products);
    const int copies = int(std::min<size_t>(64, (size_t(1) << 30) / set_bytes + 1));
    const Weights w = make_weights(t, s, copies, stream);
    DeviceScratch xs, outs_mem;
    std::vector<float> xh(size_t(s.K));
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (auto& v : xh) v = dist(rng);
    const TensorView x{xs.get(xh.size() * 4, stream), DType::F32, 1, s.K};
    CUDA_CHECK(cudaMemcpyAsync(x.data, xh.data(), xh.size() * 4, cudaMemcpyHostToDevice, stream));
    auto* out_base = static_cast<float*>(outs_mem.get(size_t(s.M * s.products) * 4, stream));
    std::vector<TensorView> outs;
    for (int i = 0; i < s.products; ++i) outs.push_back({out_base + i * s.M, DType::F32, 1, s.M});
    const Event start = make_timing_event(), stop = make_timing_event();
    std::vector<float> baseline;
    for (const Variant& v : vs) {
      for (int i = 0; i < 3; ++i)
        v.run(s, &w.views[size_t(i % copies * s.products)], outs.data(), x, stream);
      CUDA_CHECK(cudaEventRecord(start.get(), stream));
      for (int i = 0; i < iters; ++i)
        v.run(s, &w.views[size_t(i % copies * s.products)], outs.data(), x, stream);
      CUDA_CHECK(cudaEventRecord(stop.get(), stream));
      CUDA_CHECK(cudaEventSynchronize(stop.get()));
      float ms = 0;
      CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
      // The output of copy 0 (every copy holds the same weights), only out[0] with swiglu.
      v.run(s, &w.views[0], outs.data(), x, stream);
      const int64_t checked = s.epilogue == MatvecEpilogue::Swiglu ? s.M : s.M * s.products;
      std::vector<float> got(static_cast<size_t>(checked));
      CUDA_CHECK(
          cudaMemcpyAsync(got.data(), out_base, got.size() * 4, cudaMemcpyDeviceToHost, stream));
      CUDA_CHECK(cudaStreamSynchronize(stream));
      if (baseline.empty()) baseline = got;
      double diff = 0;
      for (size_t i = 0; i < got.size(); ++i)
        diff = std::max(diff, std::fabs(double(got[i]) - baseline[i]) /
                                  std::max(1.0, std::fabs(double(baseline[i]))));
      const double us = double(ms) * 1e3 / iters, gbs = double(set_bytes) / (us * 1e-6) / 1e9;
      std::printf("| %-5s | %-28s | %-11s | %8.2f | %7.0f | %5.2f | %.1e |\n", dtype_name(t).data(),
                  s.name, v.name.c_str(), us, gbs, gbs / bw_gbs, diff);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int iters = 200;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--iters" && i + 1 < argc) {
      iters = std::stoi(argv[++i]);
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench_cuda_matvec [--iters N] [--only bf16|q8_0|q4_0]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  try {
    if (cuda_device_count() == 0) {
      std::printf("skipped: no GPU (%s)\n", cuda_device_summary().c_str());
      return 77;
    }
    std::printf("%s\n", cuda_device_summary().c_str());
    const double bw = cuda_read_bandwidth_gbs(0, size_t(1) << 30);
    std::printf("device read bandwidth: %.0f GB/s (1 GiB buffer, best of 5)\n\n", bw);
    std::printf("| type | products | variant | us/call | GB/s | of bw | max rel diff vs block |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    const Stream stream = make_stream();
    if (only.empty() || only == "bf16")
      bench_type(DType::BF16, variants<Half16Format<true>>(DType::BF16), iters, bw, stream.get());
    if (only.empty() || only == "q8_0")
      bench_type(DType::Q8_0, variants<Q8_0Split>(DType::Q8_0), iters, bw, stream.get());
    if (only.empty() || only == "q4_0")
      bench_type(DType::Q4_0, variants<Q4_0Split>(DType::Q4_0), iters, bw, stream.get());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda_matvec: %s\n", e.what());
    return 1;
  }
  return 0;
}
