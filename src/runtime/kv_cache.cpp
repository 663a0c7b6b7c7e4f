#include "runtime/kv_cache.h"

#include "core/error.h"

namespace llmpipe {

uint64_t KvCacheShape::bytes() const {
  return 2ull * uint64_t(n_layers) * uint64_t(n_slots) * uint64_t(n_ctx) *
         dtype_row_bytes(dtype, kv_dim);
}

KvCache::KvCache(Backend& backend, KvCacheShape shape) : shape_(shape) {
  if (shape.n_slots < 1 || shape.n_ctx < 1 || shape.kv_dim < 1)
    fail("KV cache needs at least one slot and one position (slots ", shape.n_slots, ", context ",
         shape.n_ctx, ")");
  if (shape.dtype != DType::F32 && shape.dtype != DType::F16)
    fail("KV cache type must be f32 or f16, not ", dtype_name(shape.dtype));
  const size_t layer_bytes = size_t(shape.n_slots * shape.n_ctx) * dtype_row_bytes(shape.dtype, shape.kv_dim);
  for (int64_t l = 0; l < shape.n_layers; ++l) {
    k_.push_back(backend.alloc(layer_bytes));
    v_.push_back(backend.alloc(layer_bytes));
  }
}

KvView KvCache::layer(int64_t i) const {
  const int64_t rows = shape_.n_slots * shape_.n_ctx;
  return {k_[size_t(i)].view(shape_.dtype, rows, shape_.kv_dim),
          v_[size_t(i)].view(shape_.dtype, rows, shape_.kv_dim), shape_.n_ctx};
}

}  // namespace llmpipe
