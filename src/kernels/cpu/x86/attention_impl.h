// Causal attention, per x86 level: the part the levels share. The per-(token, head) kernel
// itself genuinely differs (AVX-512 keeps q, 16 score accumulators and the output in registers,
// with masked head_dim chunks specialized on the chunk count; AVX2 goes through arrays with
// scalar head_dim tails), so the level's TU defines attention_kernel<T> after including this.
// Semantics of both match the reference (ref_attention.cpp): with an F16 cache q is rounded to
// F16 before q.k and each softmax weight before p.v; differences from the reference are float
// summation order and Simd::exp (~2e-7 relative).
//
// Included once per level by x86/<level>/attention_<level>.cpp; anonymous namespace inside the
// level's namespace for the reason given in matmul_float_impl.h.
#pragma once

#include "kernels/cpu/reference_ops.h"
#include "kernels/cpu/x86/isa_kernels.h"

namespace llmpipe::cpu::LLMPIPE_X86_ISA {

namespace {

constexpr int kMaxHeadDim = 512;  // checked by the backend

// Work item `item` (token t, head h) of an attention call: where its q, keys/values and output are.
struct AttentionItem {
  int64_t t;
  int h;
  int64_t kv_col;  // first column of the head's K/V (grouped-query: shared by `group` heads)
  int64_t n_keys;  // causal: positions first..pos of the token's slot (first: 0, or the window's)
  int64_t base;    // cache row of the slot's position `first`
  const float* q;  // head_dim floats
  float* out;      // head_dim floats
};

inline AttentionItem attention_item(TensorView out, TensorView q, KvView cache,
                                    const BatchLayout& batch, AttentionShape shape, int64_t item) {
  const int hd = shape.head_dim, group = shape.n_head / shape.n_head_kv;
  AttentionItem it;
  it.t = item / shape.n_head;
  it.h = int(item % shape.n_head);
  it.kv_col = int64_t(it.h / group) * hd;
  const int64_t pos = batch.positions[size_t(it.t)];
  const int64_t first = ref::attention_first_key(pos, shape.window);
  it.n_keys = pos + 1 - first;
  it.base = int64_t(batch.slots[size_t(it.t)]) * cache.n_ctx + first;
  it.q = static_cast<const float*>(q.data) + it.t * q.cols + it.h * hd;
  it.out = static_cast<float*>(out.data) + it.t * out.cols + it.h * hd;
  return it;
}

// Items [i0, i1) with a cache of element type T (float, or uint16_t for F16); scores: scratch
// for one item's n_keys floats. Defined by the level's TU.
template <typename T>
void attention_kernel(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                      AttentionShape shape, int64_t i0, int64_t i1, float* scores);

}  // namespace

void attention_f32(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                   AttentionShape shape, int64_t i0, int64_t i1, float* scratch) {
  if (cache.k.dtype == DType::F16)
    attention_kernel<uint16_t>(out, q, cache, batch, shape, i0, i1, scratch);
  else
    attention_kernel<float>(out, q, cache, batch, shape, i0, i1, scratch);
}

}  // namespace llmpipe::cpu::LLMPIPE_X86_ISA
