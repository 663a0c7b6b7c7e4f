// The KV cache of one pipeline stage: for each of its layers, K and V for `n_slots` sequences of
// up to `n_ctx` positions each, in backend memory. A slot is reused by the next sequence.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/backend.h"

namespace llmpipe {

struct KvCacheShape {
  int64_t n_layers = 0;  // layers of this stage
  int64_t n_slots = 1;   // sequences in flight
  int64_t n_ctx = 0;     // positions per sequence
  int64_t kv_dim = 0;    // n_head_kv * head_dim
  DType dtype = DType::F16;  // F16 (default, as llama.cpp) or F32

  uint64_t bytes() const;  // memory the cache needs
};

class KvCache {
 public:
  KvCache(Backend& backend, KvCacheShape shape);
  const KvCacheShape& shape() const { return shape_; }
  KvView layer(int64_t i) const;  // i counts the stage's layers from 0

 private:
  KvCacheShape shape_;
  std::vector<Buffer> k_, v_;
};

}  // namespace llmpipe
