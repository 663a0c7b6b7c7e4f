// The fused ops' definitions as sequences of the basic ops, and argmax_rows on the host: what
// every backend does unless it overrides them (backend.h).
#include "kernels/backend.h"

#include <algorithm>
#include <vector>

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
                            const BatchLayout& batch, const RopeParams& params) {
  rope(q, batch, params);
  rope(k, batch, params);
  store_kv(cache, k, v, batch);
}

void Backend::argmax_rows(std::span<int32_t> ids, TensorView x) {
  LLMPIPE_CHECK(ids.size() == size_t(x.rows), "argmax_rows: ", ids.size(), " ids for ", x.rows,
                " rows");
  // Reused across calls (greedy sampling asks once per decode step): no allocation per token.
  thread_local std::vector<float> rows;
  rows.resize(size_t(x.rows * x.cols));
  to_host(rows, x);
  for (size_t r = 0; r < ids.size(); ++r) {
    const auto row = rows.begin() + std::ptrdiff_t(r * size_t(x.cols));
    // std::max_element: the first of equal maxima, as the sampler's argmax.
    ids[r] = int32_t(std::max_element(row, row + x.cols) - row);
  }
}

void Backend::add_rms_norm(TensorView out, TensorView x, TensorView y, TensorView weight,
                           float eps) {
  add(x, y);
  rms_norm(out, x, weight, eps);
}

}  // namespace llmpipe
