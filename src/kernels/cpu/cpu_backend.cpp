#include "kernels/cpu/cpu_backend.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
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

CpuBackend::CpuBackend(CpuBackendOptions options) : options_(options), pool_(options.threads) {}

std::string CpuBackend::name() const { return cat("cpu (", pool_.size(), " threads)"); }

Buffer CpuBackend::alloc(size_t bytes) {
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded ? rounded : kAlignment);
  if (!p) fail("out of memory allocating ", bytes, " bytes");
  std::memset(p, 0, rounded);
  return Buffer(this, p, bytes);
}

void CpuBackend::free(void* ptr, size_t) { std::free(ptr); }

TensorView CpuBackend::place_weight(DType dtype, int64_t rows, int64_t cols, const void* host,
                                    std::vector<Buffer>& keep) {
  TensorView v{const_cast<void*>(host), dtype, rows, cols};
  if (!options_.copy_weights) return v;
  keep.push_back(alloc(v.bytes()));
  std::memcpy(keep.back().data(), host, v.bytes());
  v.data = keep.back().data();
  return v;
}

void CpuBackend::to_host(std::span<float> dst, TensorView src) {
  check_f32(src, "to_host source");
  LLMPIPE_CHECK(dst.size() >= size_t(src.rows * src.cols), "to_host: destination too small");
  std::memcpy(dst.data(), src.data, src.bytes());
}

void CpuBackend::from_host(TensorView dst, std::span<const float> src) {
  check_f32(dst, "from_host destination");
  LLMPIPE_CHECK(src.size() == size_t(dst.rows * dst.cols), "from_host: ", src.size(),
                " floats for a [", dst.rows, ", ", dst.cols, "] tensor");
  std::memcpy(dst.data, src.data(), dst.bytes());
}

void CpuBackend::get_rows(TensorView out, TensorView table, std::span<const int32_t> ids) {
  check_f32(out, "get_rows output");
  LLMPIPE_CHECK(out.rows == int64_t(ids.size()) && out.cols == table.cols, "get_rows: shapes");
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
    cpu::ref::rms_norm_f32(out, in, static_cast<const float*>(weight.data), eps, r0, r1);
  });
}

void CpuBackend::matmul(TensorView out, TensorView in, TensorView w) {
  check_f32(in, "matmul input");
  check_f32(out, "matmul output");
  LLMPIPE_CHECK(in.cols == w.cols && out.rows == in.rows && out.cols == w.rows,
                "matmul: [", in.rows, ", ", in.cols, "] x [", w.rows, ", ", w.cols, "]ᵀ -> [",
                out.rows, ", ", out.cols, "]");
  pool_.parallel_for(w.rows, [&](int64_t m0, int64_t m1, int) {
    cpu::ref::matmul_rows(out, in, w, m0, m1);
  }, 16);
}

void CpuBackend::rope(TensorView x, const BatchLayout& batch, int head_dim, float freq_base) {
  check_f32(x, "rope input");
  LLMPIPE_CHECK(x.rows == batch.n_tokens() && x.cols % head_dim == 0 && head_dim % 2 == 0,
                "rope: shapes");
  pool_.parallel_for(x.rows, [&](int64_t r0, int64_t r1, int) {
    cpu::ref::rope_f32(x, batch, head_dim, freq_base, r0, r1);
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
  pool_.parallel_for(q.rows * shape.n_head, [&](int64_t i0, int64_t i1, int) {
    cpu::ref::attention_f32(out, q, cache, batch, shape, i0, i1);
  });
}

void CpuBackend::swiglu(TensorView gate, TensorView up) {
  check_same_shape(gate, up, "swiglu");
  auto* g = static_cast<float*>(gate.data);
  const auto* u = static_cast<const float*>(up.data);
  pool_.parallel_for(gate.rows * gate.cols, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  }, 256);
}

void CpuBackend::add(TensorView x, TensorView y) {
  check_same_shape(x, y, "add");
  auto* a = static_cast<float*>(x.data);
  const auto* b = static_cast<const float*>(y.data);
  for (int64_t i = 0; i < x.rows * x.cols; ++i) a[i] += b[i];
}

}  // namespace llmpipe
