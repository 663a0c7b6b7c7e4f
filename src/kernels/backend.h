// The kernel interface: everything the model needs from a compute backend, and nothing about
// how it is done. The CPU backend implements it with portable (and later SIMD) kernels; a CUDA
// backend implements it with device memory and GPU kernels. Model code includes only this file.
//
// Conventions: activations are F32 tensors [tokens, features]; weights are [out, in] in any
// supported dtype (GGUF layout, rows contiguous), so matmul computes out = in · Wᵀ.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/tensor.h"

namespace llmpipe {

// Which sequence (KV slot) and position each token of a batch belongs to. Tokens of one slot
// appear in increasing position order; a token attends to positions [0, position] of its slot.
struct BatchLayout {
  std::span<const int32_t> positions;  // [n_tokens]
  std::span<const int32_t> slots;      // [n_tokens]
  uint64_t generation = 0;  // changes whenever the contents change (lets backends cache copies)
  int64_t n_tokens() const { return int64_t(positions.size()); }
};

struct AttentionShape {
  int n_head = 0;
  int n_head_kv = 0;  // n_head must be a multiple (grouped-query attention)
  int head_dim = 0;
  // Sliding-window attention (Mistral): > 0, a token at position p attends to the positions
  // (p - window, p] only, as transformers' sliding_window mask; 0: to every position [0, p].
  int window = 0;
};

// Which elements of a head RoPE rotates together. Adjacent: (x[2i], x[2i+1]), GGUF llama
// (llama.cpp permutes HF's Q/K rows to this order). Neox: (x[i], x[i + head_dim/2]), HF's
// rotate-half order as it is stored (qwen2, qwen3: llama.cpp keeps those rows unpermuted).
enum class RopeStyle { Adjacent, Neox };

// Pair i of a head at position p is rotated by the angle
//   p * position_scale * freq_base^(-2i/head_dim) / freq_factors[i].
struct RopeParams {
  int head_dim = 0;
  float freq_base = 10000.0f;
  RopeStyle style = RopeStyle::Adjacent;
  float position_scale = 1.0f;  // 1 / factor of linear rope scaling
  // Optional per-frequency divisors, [1, head_dim / 2] F32 in this backend's memory (a weight
  // placed with WeightUse::Vector: GGUF rope_freqs.weight, LLaMA 3.1's rope scaling); data
  // null: all 1.
  TensorView freq_factors{};
};

// One layer's KV cache: K and V are [n_slots * n_ctx, n_head_kv * head_dim], slot-major,
// F32 or F16 (half the memory; products then taken in F16 precision, as llama.cpp does).
struct KvView {
  TensorView k;
  TensorView v;
  int64_t n_ctx = 0;  // positions per slot
};

// What a weight is used for, so a backend can choose its memory layout.
enum class WeightUse {
  Matmul,  // the w of matmul(): may be repacked for the backend's kernels
  Lookup,  // the table of get_rows() (token embeddings): rows stay contiguous
  Vector,  // a [1, d] F32 vector (norm weights)
};

// Where a CPU backend keeps weights (measured in bench/RESULTS.md):
//   Mmap:   computes straight from the file mapping (no copy; pages read on first use).
//   Copy:   copies into anonymous, huge-page advised memory, GGUF layout.
//   Packed: like Copy, and matmul weights repacked into the kernels' interleaved
//           layout where the CPU has kernels for it (AVX-512); everything else as with Mmap.
enum class WeightPlacement { Mmap, Copy, Packed };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // ---- memory ----
  virtual Buffer alloc(size_t bytes) = 0;          // zero-initialized
  virtual void free(void* ptr, size_t bytes) = 0;  // called by Buffer
  // Makes host bytes of a weight usable by kernels. A CPU backend may use the host memory as it
  // is (the mmap); others copy into `keep` and return a view of the copy (possibly repacked for
  // `use`). When the view's data is not `host`, the caller may release the host bytes.
  virtual TensorView place_weight(DType dtype, int64_t rows, int64_t cols, const void* host,
                                  std::vector<Buffer>& keep, WeightUse use) = 0;
  virtual void to_host(std::span<float> dst, TensorView src) = 0;          // src is F32
  virtual void from_host(TensorView dst, std::span<const float> src) = 0;  // dst is F32
  virtual void synchronize() = 0;

  // ---- submission ----
  // The ops of one forward pass of `n_tokens` tokens, called between begin_graph and
  // submit_graph, may be recorded and submitted as one unit: the CUDA backend records decode
  // steps as a CUDA graph (one submission instead of one launch per op, which bounded decoding
  // on an H100). Between the two calls nothing may wait for device results (to_host,
  // synchronize). abort_graph drops what was recorded (an op failed). Backends without such a
  // thing keep the defaults: every op runs as it is called. Use GraphScope, not these directly.
  virtual void begin_graph(int64_t /*n_tokens*/) {}
  virtual void submit_graph() {}
  virtual void abort_graph() noexcept {}

  // ---- ops ----
  // out[i] = dequantized row ids[i] of table. out: [n, d] F32, table: [V, d] any dtype.
  virtual void get_rows(TensorView out, TensorView table, std::span<const int32_t> ids) = 0;
  // out = in / rms(in) * weight, per row. weight: [1, d] F32.
  virtual void rms_norm(TensorView out, TensorView in, TensorView weight, float eps) = 0;
  // out[n, m] = in[n, k] · w[m, k]ᵀ.
  virtual void matmul(TensorView out, TensorView in, TensorView w) = 0;
  // Rotates the pairs of each head (params.style) by the angles of RopeParams, in place.
  // x: [n, heads * head_dim].
  virtual void rope(TensorView x, const BatchLayout& batch, const RopeParams& params) = 0;
  // Writes each token's k and v ([n, n_head_kv * head_dim]) at (slot, position) of the cache.
  virtual void store_kv(KvView cache, TensorView k, TensorView v, const BatchLayout& batch) = 0;
  // Causal attention of q ([n, n_head * head_dim]) over the cache, softmax scaled by
  // 1/sqrt(head_dim), within shape.window positions when it is set. out: [n, n_head * head_dim].
  virtual void attention(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                         AttentionShape shape) = 0;
  // gate = silu(gate) * up, elementwise.
  virtual void swiglu(TensorView gate, TensorView up) = 0;
  // x += y, elementwise.
  virtual void add(TensorView x, TensorView y) = 0;
  // x[i, :] += bias[0, :] for every row i (projection biases). bias: [1, x.cols] F32.
  virtual void add_rows(TensorView x, TensorView bias) = 0;
  // ids[r] = argmax of row r of x ([rows, cols] F32), as runtime/sampler.h's argmax: the lowest
  // index among equal maxima (a NaN first element wins, later NaNs are passed over). What a
  // greedy sampler needs: a GPU backend copies one int per row instead of the row (the
  // default copies the rows and scans them on the host). ids.size() == rows.
  virtual void argmax_rows(std::span<int32_t> ids, TensorView x);

  // ---- fused ops ----
  // Each is defined as the ops above in sequence (backend.cpp does exactly that); a backend
  // overrides one where doing it at once saves passes over memory or kernel launches (a 3B
  // model's decode step on an H100 spent a quarter of its time in ~270 small kernels).
  // outs[i] = in · ws[i]ᵀ for every i: one input, several weights (a layer's q, k and v).
  virtual void matmul_many(std::span<const TensorView> outs, TensorView in,
                           std::span<const TensorView> ws);
  // gate = silu(in · w_gateᵀ) * (in · w_upᵀ). up: scratch of gate's shape, clobbered.
  virtual void matmul_swiglu(TensorView gate, TensorView up, TensorView in, TensorView w_gate,
                             TensorView w_up);
  // rope(q), rope(k), then store_kv(cache, k, v): a layer's new keys rotated and cached.
  virtual void rope_store_kv(TensorView q, TensorView k, TensorView v, KvView cache,
                             const BatchLayout& batch, const RopeParams& params);
  // x += y, then out = rms_norm(x) * weight, per row. out may be y.
  virtual void add_rms_norm(TensorView out, TensorView x, TensorView y, TensorView weight,
                            float eps);
};

// One forward pass's ops as one submission (Backend::begin_graph): submit() at the end of the
// pass; if the scope is left without it (an exception), what was recorded is dropped.
class GraphScope {
 public:
  GraphScope(Backend& backend, int64_t n_tokens) : backend_(backend) {
    backend_.begin_graph(n_tokens);
  }
  GraphScope(const GraphScope&) = delete;
  GraphScope& operator=(const GraphScope&) = delete;
  ~GraphScope() {
    if (open_) backend_.abort_graph();
  }
  void submit() {
    if (!open_) return;
    open_ = false;
    backend_.submit_graph();
  }

 private:
  Backend& backend_;
  bool open_ = true;
};

}  // namespace llmpipe
