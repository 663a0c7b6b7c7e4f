// The CPU backend: kernels on host memory, split across a persistent thread pool.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/backend.h"
#include "kernels/cpu/cpu_isa.h"
#include "kernels/cpu/cpu_kernels.h"

namespace llmpipe {

struct CpuBackendOptions {
  int threads = 1;
  // Where weights live (backend.h): packed by default, as it decodes fastest (bench/RESULTS.md).
  WeightPlacement weights = WeightPlacement::Packed;
  // Copies (Copy, Packed): ask for transparent huge pages (madvise(MADV_HUGEPAGE)), which cuts
  // TLB misses when streaming gigabytes of weights per token.
  bool huge_pages = true;
  // Kernel instruction-set level; unset: $LLMPIPE_CPU_ISA, else the best the CPU supports.
  std::optional<cpu::CpuIsa> isa = std::nullopt;
};

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(CpuBackendOptions options);

  std::string name() const override;
  Buffer alloc(size_t bytes) override;
  void free(void* ptr, size_t bytes) override;
  TensorView place_weight(DType dtype, int64_t rows, int64_t cols, const void* host,
                          std::vector<Buffer>& keep, WeightUse use) override;
  void to_host(std::span<float> dst, TensorView src) override;
  void from_host(TensorView dst, std::span<const float> src) override;
  void synchronize() override {}

  void get_rows(TensorView out, TensorView table, std::span<const int32_t> ids) override;
  void rms_norm(TensorView out, TensorView in, TensorView weight, float eps) override;
  void matmul(TensorView out, TensorView in, TensorView w) override;
  void rope(TensorView x, const BatchLayout& batch, const RopeParams& params) override;
  void store_kv(KvView cache, TensorView k, TensorView v, const BatchLayout& batch) override;
  void attention(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                 AttentionShape shape) override;
  void swiglu(TensorView gate, TensorView up) override;
  void add(TensorView x, TensorView y) override;
  void add_rows(TensorView x, TensorView bias) override;

  ThreadPool& pool() { return pool_; }
  cpu::CpuIsa isa() const { return kernels_->isa; }

 private:
  void matmul_quantized(TensorView out, TensorView in, TensorView w, cpu::MatmulFn fn);
  void matmul_float(TensorView out, TensorView in, TensorView w, cpu::MatmulFn fn);
  void matmul_decoded(TensorView out, TensorView in, TensorView w);
  void matmul_blocks(TensorView out, TensorView in, TensorView w, cpu::MatmulFn fn);
  // Runs fn(m0, m1) over the weight rows [0, rows) in chunks of kRowsPerChunk, each thread
  // taking the next chunk when it is done (ThreadPool::parallel_for_dynamic).
  void split_rows(int64_t rows, const std::function<void(int64_t, int64_t)>& fn);

  // Weight rows per chunk: a multiple of 16 (a packed group; 16 floats = one cache line of a
  // row of `out`, so two threads never write the same line) and large enough that taking a
  // chunk costs nothing next to computing it. Measured against the static half-and-half split
  // (3B Q4_0, 2 threads, `bench -p 0 -n 48 -r 3`, alternating rounds on a shared VM, mean t/s):
  // 6 rounds static 10.76 / 64 rows 10.87 / 256 rows 11.91, then 6 rounds static 10.27 /
  // 128 rows 11.95 / 256 rows 11.38. The dynamic split mostly wins where one core was slowed
  // by a neighbour (static 6.8-7.2 t/s in such rounds, dynamic 9.6-10.1).
  static constexpr int64_t kRowsPerChunk = 128;
  cpu::MatmulFn row_major_kernel(DType dtype) const;  // null: the scalar level (reference)
  cpu::MatmulFn packed_kernel(DType dtype) const;     // null: no packed kernel for dtype
  Buffer alloc_weight(size_t bytes);  // huge-page advised when large (options_.huge_pages)

  CpuBackendOptions options_;
  ThreadPool pool_;  // one persistent pool per backend (one backend per process)
  const cpu::CpuKernels* kernels_;
  // Reused scratch (grow-only): quantized activations, per-thread attention scores.
  std::vector<int8_t> act_q_;
  std::vector<float> act_d_;
  std::vector<float> act_s_;  // packed kernels: offset * d * Σ codes per block
  std::vector<std::vector<float>> attn_scratch_;
  std::vector<std::vector<float>> decode_scratch_;  // per thread: block-decoded weight rows
};

}  // namespace llmpipe
