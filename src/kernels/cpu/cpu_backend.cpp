#include "kernels/cpu/cpu_backend.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "kernels/cpu/block_decode.h"
#include "kernels/cpu/packed_weights.h"
#include "kernels/cpu/quantize.h"
#include "kernels/cpu/reference_ops.h"

namespace llmpipe {

namespace {
constexpr size_t kAlignment = 64;  // cache line; also what AVX-512 loads like

void check_f32(TensorView t, const char* what) {
  LLMPIPE_CHECK(t.dtype == DType::F32, what, " must be f32, is ", dtype_name(t.dtype));
}
void check_same_shape(TensorView a, TensorView b, const char* op) {
  LLMPIPE_CHECK(a.rows == b.rows && a.cols == b.cols, op, ": shapes [", a.rows, ", ", a.cols,
                "] and [", b.rows, ", ", b.cols, "] differ");
}
}  // namespace

CpuBackend::CpuBackend(CpuBackendOptions options)
    : options_(options),
      pool_(options.threads),
      kernels_(&cpu::cpu_kernels(cpu::choose_cpu_isa(options.isa))),
      attn_scratch_(size_t(pool_.size())),
      decode_scratch_(size_t(pool_.size())) {}

std::string CpuBackend::name() const {
  return cat("cpu (", pool_.size(), " threads, ", cpu::cpu_isa_name(kernels_->isa), ")");
}

Buffer CpuBackend::alloc(size_t bytes) {
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded ? rounded : kAlignment);
  if (!p) fail("out of memory allocating ", bytes, " bytes");
  std::memset(p, 0, rounded);
  return Buffer(this, p, bytes);
}

void CpuBackend::free(void* ptr, size_t) { std::free(ptr); }

Buffer CpuBackend::alloc_weight(size_t bytes) {
  // Large copies: 2 MiB-aligned, and their whole 2 MiB pages advised MADV_HUGEPAGE before the
  // first touch, so the kernel can back them with transparent huge pages. The tail stays in
  // small pages: a huge last page would add ~1 MiB of resident memory per tensor (~180 MiB for
  // a 3B model, measured). Advisory: errors are ignored.
  constexpr size_t kHuge = size_t(2) << 20, kPage = 4096;
  const bool huge = options_.huge_pages && bytes >= kHuge;
  const size_t align = huge ? kHuge : kAlignment;
  const size_t rounded = (bytes + kPage - 1) / kPage * kPage;
  // posix_memalign, not aligned_alloc: the size need not be a multiple of the alignment.
  void* p = nullptr;
  if (posix_memalign(&p, align, rounded ? rounded : align) != 0)
    fail("out of memory placing a weight of ", bytes, " bytes");
#if defined(MADV_HUGEPAGE)
  if (huge) madvise(p, bytes / kHuge * kHuge, MADV_HUGEPAGE);
#endif
  return Buffer(this, p, bytes);
}

cpu::MatmulFn CpuBackend::row_major_kernel(DType dtype) const {
  switch (dtype) {
    case DType::F32: return kernels_->matmul_f32_f32;
    case DType::F16: return kernels_->matmul_f16_f32;
    case DType::BF16: return kernels_->matmul_bf16_f32;
    case DType::Q8_0: return kernels_->matmul_q8_0_f32;
    case DType::Q4_0: return kernels_->matmul_q4_0_f32;
    default: return nullptr;  // block-decoded types: matmul_decoded
  }
}

cpu::MatmulFn CpuBackend::packed_kernel(DType dtype) const {
  switch (dtype) {
    case DType::Q4_0: return kernels_->matmul_q4_0x16_f32;
    case DType::Q8_0: return kernels_->matmul_q8_0x16_f32;
    case DType::Q5_0: return kernels_->matmul_q5_0x16_f32;
    case DType::Q4_K: return kernels_->matmul_q4_kx16_f32;
    case DType::Q6_K: return kernels_->matmul_q6_kx16_f32;
    case DType::F32: return kernels_->matmul_f32x16_f32;
    case DType::F16: return kernels_->matmul_f16x16_f32;
    case DType::BF16: return kernels_->matmul_bf16x16_f32;
    default: return nullptr;
  }
}

TensorView CpuBackend::place_weight(DType dtype, int64_t rows, int64_t cols, const void* host,
                                    std::vector<Buffer>& keep, WeightUse use) {
  TensorView v{const_cast<void*>(host), dtype, rows, cols};
  if (options_.weights == WeightPlacement::Packed && use == WeightUse::Matmul &&
      packed_kernel(dtype) && (cpu::packed_float(dtype) || cols % kQK == 0)) {
    keep.push_back(alloc_weight(cpu::packed_bytes(dtype, rows, cols)));
    v.data = keep.back().data();
    v.packed_rows = cpu::kPackRows;
    // Packing reads the file pages once; threads take disjoint groups of rows.
    pool_.parallel_for((rows + cpu::kPackRows - 1) / cpu::kPackRows, [&](int64_t g0, int64_t g1, int) {
      cpu::pack_row_groups(dtype, host, rows, cols, v.data, g0, g1);
    });
    return v;
  }
  if (options_.weights != WeightPlacement::Copy) return v;
  keep.push_back(alloc_weight(v.bytes()));
  std::memcpy(keep.back().data(), host, v.bytes());
  v.data = keep.back().data();
  return v;
}

void CpuBackend::to_host(std::span<float> dst, TensorView src) {
  check_f32(src, "to_host source");
  LLMPIPE_CHECK(dst.size() >= size_t(src.rows * src.cols), "to_host: destination too small");
  if (src.bytes() > 0) std::memcpy(dst.data(), src.data, src.bytes());  // empty: data may be null
}

void CpuBackend::from_host(TensorView dst, std::span<const float> src) {
  check_f32(dst, "from_host destination");
  LLMPIPE_CHECK(src.size() == size_t(dst.rows * dst.cols), "from_host: ", src.size(),
                " floats for a [", dst.rows, ", ", dst.cols, "] tensor");
  if (dst.bytes() > 0) std::memcpy(dst.data, src.data(), dst.bytes());  // empty: data may be null
}

void CpuBackend::get_rows(TensorView out, TensorView table, std::span<const int32_t> ids) {
  check_f32(out, "get_rows output");
  LLMPIPE_CHECK(out.rows == int64_t(ids.size()) && out.cols == table.cols, "get_rows: shapes");
  // Packed tables interleave rows: place lookup tables with WeightUse::Lookup.
  LLMPIPE_CHECK(table.packed_rows == 0, "get_rows: the table is packed for matmul");
  for (size_t i = 0; i < ids.size(); ++i) {
    LLMPIPE_CHECK(ids[i] >= 0 && ids[i] < table.rows, "token id ", ids[i], " outside [0, ",
                  table.rows, ")");
    cpu::dequantize_row_f32(table.dtype, table.rows_slice(ids[i], 1).data,
                            static_cast<float*>(out.data) + i * out.cols, table.cols);
  }
}

void CpuBackend::rms_norm(TensorView out, TensorView in, TensorView weight, float eps) {
  check_f32(in, "rms_norm input");
  check_f32(weight, "rms_norm weight");
  check_same_shape(out, in, "rms_norm");
  LLMPIPE_CHECK(weight.cols == in.cols, "rms_norm: weight of ", weight.cols, " for rows of ", in.cols);
  pool_.parallel_for(in.rows, [&](int64_t r0, int64_t r1, int) {
    kernels_->rms_norm_f32(out, in, static_cast<const float*>(weight.data), eps, r0, r1);
  });
}

void CpuBackend::matmul(TensorView out, TensorView in, TensorView w) {
  check_f32(in, "matmul input");
  check_f32(out, "matmul output");
  LLMPIPE_CHECK(in.cols == w.cols && out.rows == in.rows && out.cols == w.rows,
                "matmul: [", in.rows, ", ", in.cols, "] x [", w.rows, ", ", w.cols, "]ᵀ -> [",
                out.rows, ", ", out.cols, "]");
  if (cpu::decoded_by_blocks(w.dtype) && w.packed_rows == 0) {
    if (const cpu::MatmulFn fn = kernels_->matmul_blocks_f32[int(w.dtype)])
      return matmul_blocks(out, in, w, fn);
    return matmul_decoded(out, in, w);
  }
  const cpu::MatmulFn fn = w.packed_rows ? packed_kernel(w.dtype) : row_major_kernel(w.dtype);
  LLMPIPE_CHECK(w.packed_rows == 0 || (fn && w.packed_rows == cpu::kPackRows),
                "matmul: weight packed by ", w.packed_rows, " rows, which the ",
                cpu::cpu_isa_name(kernels_->isa), " kernels cannot read");
  if (!fn) {  // scalar level: the reference kernels
    split_rows(w.rows, [&](int64_t m0, int64_t m1) { cpu::ref::matmul_rows(out, in, w, m0, m1); });
    return;
  }
  if (cpu::packed_float(w.dtype)) return matmul_float(out, in, w, fn);
  matmul_quantized(out, in, w, fn);
}

// F32 activations as they are; every thread multiplies its weight rows (packed: its groups of
// kPackRows rows) with all of them.
void CpuBackend::matmul_float(TensorView out, TensorView in, TensorView w, cpu::MatmulFn fn) {
  cpu::MatmulArgs a;
  a.y = static_cast<float*>(out.data);
  a.ldy = out.cols;
  a.w = static_cast<const uint8_t*>(w.data);
  a.w_row_bytes = w.packed_rows ? 0 : w.row_bytes();
  a.n = in.rows;
  a.k = in.cols;
  a.x = static_cast<const float*>(in.data);
  a.ldx = in.cols;
  split_rows(w.rows, [&](int64_t m0, int64_t m1) { fn(a, m0, m1); });
}

// Weights without a SIMD kernel of their own (block_decode.h): each thread decodes a few of its
// rows to F32 at a time and multiplies them with the F32 kernel (the reference at the scalar
// level). A row's decode and product do not depend on the batch, so neither does its result.
void CpuBackend::matmul_decoded(TensorView out, TensorView in, TensorView w) {
  constexpr int64_t kRows = 16;  // decoded rows per step: 16 x k floats stay in L2
  const cpu::MatmulFn f32 = row_major_kernel(DType::F32);
  const size_t w_row = w.row_bytes();
  pool_.parallel_for_dynamic(w.rows, [&](int64_t m0, int64_t m1, int thread) {
    std::vector<float>& rows = decode_scratch_[size_t(thread)];  // [kRows, k]
    if (rows.size() < size_t(kRows * w.cols)) rows.resize(size_t(kRows * w.cols));
    for (int64_t r0 = m0; r0 < m1; r0 += kRows) {
      const int64_t nr = std::min(kRows, m1 - r0);
      for (int64_t r = 0; r < nr; ++r)
        cpu::decode_blocks_f32(w.dtype, static_cast<const uint8_t*>(w.data) + size_t(r0 + r) * w_row,
                               rows.data() + r * w.cols, w.cols);
      TensorView dec{rows.data(), DType::F32, nr, w.cols};
      TensorView y = out;  // columns r0.. of out: row t of y starts at out[t][r0]
      y.data = static_cast<float*>(out.data) + r0;
      if (!f32) {
        cpu::ref::matmul_rows(y, in, dec, 0, nr);
        continue;
      }
      cpu::MatmulArgs a;
      a.y = static_cast<float*>(y.data);
      a.ldy = out.cols;
      a.w = reinterpret_cast<const uint8_t*>(rows.data());
      a.w_row_bytes = size_t(w.cols) * sizeof(float);
      a.n = in.rows;
      a.k = in.cols;
      a.x = static_cast<const float*>(in.data);
      a.ldx = in.cols;
      f32(a, 0, nr);
    }
  }, kRowsPerChunk);
}

// Block-decoded weights with a SIMD kernel (block_unpack.h): the activations quantized once,
// codes per 32, then every thread multiplies its weight rows with all of them.
void CpuBackend::matmul_blocks(TensorView out, TensorView in, TensorView w, cpu::MatmulFn fn) {
  const int64_t n = in.rows, k = in.cols, kp = cpu::q8_blocks_stride(k);
  if (act_q_.size() < size_t(n * kp)) act_q_.resize(size_t(n * kp));
  if (act_d_.size() < size_t(n * kp / 4)) act_d_.resize(size_t(n * kp / 4));
  if (act_s_.size() < size_t(n * kp / 16)) act_s_.resize(size_t(n * kp / 16));
  const auto* x = static_cast<const float*>(in.data);
  auto quantize = [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r)
      kernels_->quantize_row_q8_blocks(x + r * k, k, act_q_.data() + r * kp, act_d_.data() + r * kp / 4,
                                       act_s_.data() + r * kp / 16);
  };
  if (n >= 4) pool_.parallel_for(n, quantize);
  else quantize(0, n, 0);  // decode: not worth waking the pool
  cpu::MatmulArgs a;
  a.y = static_cast<float*>(out.data);
  a.ldy = out.cols;
  a.w = static_cast<const uint8_t*>(w.data);
  a.w_row_bytes = w.row_bytes();
  a.n = n;
  a.k = k;
  a.xq = act_q_.data();
  a.xd = act_d_.data();
  a.xs = act_s_.data();
  a.ldq = kp;
  split_rows(w.rows, [&](int64_t m0, int64_t m1) { fn(a, m0, m1); });
}

void CpuBackend::split_rows(int64_t rows, const std::function<void(int64_t, int64_t)>& fn) {
  pool_.parallel_for_dynamic(rows, [&](int64_t m0, int64_t m1, int) { fn(m0, m1); }, kRowsPerChunk);
}

// Quantizes the activations once (Q8_0-style, like llama.cpp), then every thread multiplies its
// weight rows (packed: its groups of kPackRows rows) with all of them in integer arithmetic.
void CpuBackend::matmul_quantized(TensorView out, TensorView in, TensorView w, cpu::MatmulFn fn) {
  const bool packed = w.packed_rows != 0;
  const int64_t n = in.rows, k = in.cols, nb = k / kQK;
  LLMPIPE_CHECK(k % kQK == 0, "matmul: quantized weights need k % 32 == 0, k = ", k);
  if (act_q_.size() < size_t(n * k)) act_q_.resize(size_t(n * k));
  if (act_d_.size() < size_t(n * nb)) act_d_.resize(size_t(n * nb));
  const int64_t s_per_row = packed ? cpu::packed_sums_per_block(w.dtype) * nb : 0;
  if (act_s_.size() < size_t(n * s_per_row)) act_s_.resize(size_t(n * s_per_row));
  const auto* x = static_cast<const float*>(in.data);
  auto quantize = [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      int8_t* qs = act_q_.data() + r * k;
      float* d = act_d_.data() + r * nb;
      if (packed)
        kernels_->quantize_row_q8_packed(w.dtype, x + r * k, k, qs, d, act_s_.data() + r * s_per_row);
      else kernels_->quantize_row_q8(w.dtype, x + r * k, k, qs, d);
    }
  };
  if (n >= 4) pool_.parallel_for(n, quantize);
  else quantize(0, n, 0);  // decode: a few microseconds, not worth waking the pool
  cpu::MatmulArgs a;
  a.y = static_cast<float*>(out.data);
  a.ldy = out.cols;
  a.w = static_cast<const uint8_t*>(w.data);
  a.w_row_bytes = packed ? 0 : w.row_bytes();
  a.n = n;
  a.k = k;
  a.xq = act_q_.data();
  a.xd = act_d_.data();
  a.xs = packed ? act_s_.data() : nullptr;
  static_assert(kRowsPerChunk % cpu::kPackRows == 0);  // whole packed groups per chunk
  split_rows(w.rows, [&](int64_t m0, int64_t m1) { fn(a, m0, m1); });
}

void CpuBackend::rope(TensorView x, const BatchLayout& batch, const RopeParams& params) {
  check_f32(x, "rope input");
  const int head_dim = params.head_dim;
  LLMPIPE_CHECK(head_dim > 0 && x.rows == batch.n_tokens() && x.cols % head_dim == 0 &&
                    head_dim % 2 == 0,
                "rope: rows of ", x.cols, " for heads of ", head_dim, ", ", x.rows,
                " rows for a batch of ", batch.n_tokens());
  if (params.freq_factors.data) {
    check_f32(params.freq_factors, "rope frequency factors");
    LLMPIPE_CHECK(params.freq_factors.rows * params.freq_factors.cols == head_dim / 2,
                  "rope: ", params.freq_factors.cols, " frequency factors for heads of ",
                  head_dim, ", expected ", head_dim / 2);
  }
  pool_.parallel_for(x.rows, [&](int64_t r0, int64_t r1, int) {
    cpu::ref::rope_f32(x, batch, params, r0, r1);
  });
}

void CpuBackend::store_kv(KvView cache, TensorView k, TensorView v, const BatchLayout& batch) {
  LLMPIPE_CHECK(k.rows == batch.n_tokens() && k.cols == cache.k.cols && v.cols == cache.v.cols,
                "store_kv: shapes");
  for (int64_t t = 0; t < k.rows; ++t) {
    const int64_t slot = batch.slots[size_t(t)], pos = batch.positions[size_t(t)];
    LLMPIPE_CHECK(pos >= 0 && pos < cache.n_ctx && slot >= 0 &&
                      (slot + 1) * cache.n_ctx <= cache.k.rows,
                  "store_kv: slot ", slot, " position ", pos, " outside the cache");
  }
  cpu::ref::store_kv_f32(cache, k, v, batch, 0, k.rows);
}

void CpuBackend::attention(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                           AttentionShape shape) {
  LLMPIPE_CHECK(shape.n_head % shape.n_head_kv == 0 && q.cols == shape.n_head * shape.head_dim &&
                    q.rows == batch.n_tokens(),
                "attention: shapes");
  LLMPIPE_CHECK(shape.head_dim <= 512, "attention: head_dim ", shape.head_dim, " above 512");
  int64_t max_keys = 0;
  for (int32_t p : batch.positions) max_keys = std::max<int64_t>(max_keys, int64_t(p) + 1);
  for (auto& s : attn_scratch_)
    if (s.size() < size_t(max_keys)) s.resize(size_t(max_keys));
  pool_.parallel_for(q.rows * shape.n_head, [&](int64_t i0, int64_t i1, int thread) {
    kernels_->attention_f32(out, q, cache, batch, shape, i0, i1, attn_scratch_[size_t(thread)].data());
  });
}

void CpuBackend::swiglu(TensorView gate, TensorView up) {
  check_same_shape(gate, up, "swiglu");
  auto* g = static_cast<float*>(gate.data);
  const auto* u = static_cast<const float*>(up.data);
  pool_.parallel_for(gate.rows * gate.cols, [&](int64_t i0, int64_t i1, int) {
    kernels_->swiglu_f32(g + i0, u + i0, i1 - i0);
  }, 256);
}

void CpuBackend::add(TensorView x, TensorView y) {
  check_same_shape(x, y, "add");
  auto* a = static_cast<float*>(x.data);
  const auto* b = static_cast<const float*>(y.data);
  const int64_t n = x.rows * x.cols;
  // Memory-bound and tiny at decode (one row): only split big (prefill) batches.
  if (n < (int64_t(1) << 16)) return kernels_->add_f32(a, b, n);
  pool_.parallel_for(n, [&](int64_t i0, int64_t i1, int) { kernels_->add_f32(a + i0, b + i0, i1 - i0); }, 1024);
}

void CpuBackend::add_rows(TensorView x, TensorView bias) {
  check_f32(x, "add_rows input");
  check_f32(bias, "add_rows bias");
  LLMPIPE_CHECK(bias.rows == 1 && bias.cols == x.cols, "add_rows: bias [", bias.rows, ", ",
                bias.cols, "] for rows of ", x.cols, ", expected [1, ", x.cols, "]");
  const auto* b = static_cast<const float*>(bias.data);
  // Row by row with the level's add kernel: a few thousand floats per row.
  for (int64_t r = 0; r < x.rows; ++r)
    kernels_->add_f32(static_cast<float*>(x.data) + r * x.cols, b, x.cols);
}

}  // namespace llmpipe
