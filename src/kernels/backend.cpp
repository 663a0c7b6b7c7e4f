// The fused ops' definitions as sequences of the basic ops: what every backend does unless it
// overrides them (backend.h).
#include "kernels/backend.h"

#include "core/error.h"

namespace llmpipe {

void Backend::matmul_many(std::span<const TensorView> outs, TensorView in,
                          std::span<const TensorView> ws) {
  LLMPIPE_CHECK(outs.size() == ws.size(), "matmul_many: ", outs.size(), " outputs for ", ws.size(),
                " weights");
  for (size_t i = 0; i < ws.size(); ++i) matmul(outs[i], in, ws[i]);
}

void Backend::matmul_swiglu(TensorView gate, TensorView up, TensorView in, TensorView w_gate,
                            TensorView w_up) {
  matmul(gate, in, w_gate);
  matmul(up, in, w_up);
  swiglu(gate, up);
}

void Backend::rope_store_kv(TensorView q, TensorView k, TensorView v, KvView cache,
                            const BatchLayout& batch, int head_dim, float freq_base) {
  rope(q, batch, head_dim, freq_base);
  rope(k, batch, head_dim, freq_base);
  store_kv(cache, k, v, batch);
}

void Backend::add_rms_norm(TensorView out, TensorView x, TensorView y, TensorView weight,
                           float eps) {
  add(x, y);
  rms_norm(out, x, weight, eps);
}

}  // namespace llmpipe
