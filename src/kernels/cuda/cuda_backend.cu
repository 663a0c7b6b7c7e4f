// CudaBackend: the Backend interface on one GPU. Every op is enqueued on the backend's stream
// and returns at once; to_host waits for the stream (it is where results leave the GPU), so the
// model code needs no synchronization of its own.
//
// Host-side inputs of ops (token ids, batch positions and slots) are copied to the device per
// call; positions and slots only when they changed since the last call (a stage runs many
// layers over one batch layout).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/graph_recorder.cuh"
#include "kernels/cuda/ops.cuh"
#include "kernels/cuda/products.cuh"
#include "kernels/cuda/raii.cuh"
#include "kernels/cuda/split_layout.cuh"

namespace llmpipe {

namespace {

using cuda::DeviceScratch;

void check_f32(TensorView t, const char* what) {
  LLMPIPE_CHECK(t.dtype == DType::F32, what, " must be f32, is ", dtype_name(t.dtype));
}
void check_same_shape(TensorView a, TensorView b, const char* op) {
  LLMPIPE_CHECK(a.rows == b.rows && a.cols == b.cols, op, ": shapes [", a.rows, ", ", a.cols,
                "] and [", b.rows, ", ", b.cols, "] differ");
}

// CUDA graphs for decode steps unless LLMPIPE_CUDA_GRAPHS=0 (to compare, or to debug a kernel).
bool graphs_enabled() {
  const char* v = std::getenv("LLMPIPE_CUDA_GRAPHS");
  return !(v && std::string(v) == "0");
}

void check_matmul_shapes(TensorView out, TensorView in, TensorView w) {
  check_f32(in, "matmul input");
  check_f32(out, "matmul output");
  LLMPIPE_CHECK(in.cols == w.cols && out.rows == in.rows && out.cols == w.rows, "matmul: [",
                in.rows, ", ", in.cols, "] x [", w.rows, ", ", w.cols, "]ᵀ -> [", out.rows, ", ",
                out.cols, "]");
}

std::string gib(uint64_t bytes) {
  return cat(double(bytes) / double(1ull << 30), " GiB");
}

class CudaBackend final : public Backend {
 public:
  static constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;  // NVIDIA's size for Hopper

  explicit CudaBackend(const CudaBackendOptions& options) : options_(options) {
    const int count = cuda_device_count();
    if (count == 0) fail("no CUDA device: ", cuda_device_summary());
    if (options.device < 0 || options.device >= count)
      fail("CUDA device ", options.device, " does not exist (", count, " visible)");
    CUDA_CHECK(cudaSetDevice(options.device));
    CUDA_CHECK(cudaGetDeviceProperties(&props_, options.device));
    stream_ = cuda::make_stream();
    cublas_ = cuda::make_cublas(stream_.get());
    // An explicit workspace, so that cuBLAS allocates nothing while a graph is being recorded.
    CUBLAS_CHECK(cublasSetWorkspace(cublas_.get(),
                                    cublas_workspace_.get(kCublasWorkspaceBytes, stream_.get()),
                                    kCublasWorkspaceBytes));
    products_.emplace(stream_.get(), cublas_.get(), props_.major, options.tile_workspace_bytes);
  }

  ~CudaBackend() override { cudaStreamSynchronize(stream_.get()); }

  std::string name() const override {
    return cat("cuda:", options_.device, " (", props_.name, ", sm_", props_.major, props_.minor,
               ")");
  }

  int device() const { return options_.device; }
  cudaStream_t stream() const { return stream_.get(); }
  // The device's UUID as nvidia-smi prints it ("GPU-" and 32 hex digits in 5 groups).
  std::string uuid() const {
    std::string s = "GPU-";
    static const char* hex = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) {
      const auto b = static_cast<unsigned char>(props_.uuid.bytes[i]);
      if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
      s += hex[b >> 4];
      s += hex[b & 15];
    }
    return s;
  }

  CudaMemoryInfo memory() {
    use_device();
    size_t free = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&free, &total));
    const uint64_t ws = products_->scratch_bytes() + partials_.bytes() + ids_.bytes() +
                        argmax_ids_.bytes() + positions_dev_.bytes() + slots_dev_.bytes() +
                        rope_table_.bytes() + cublas_workspace_.bytes();
    return {free, total, allocated_ + ws, ws};
  }

  // ---- memory ----
  Buffer alloc(size_t bytes) override {
    use_device();
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, std::max<size_t>(bytes, 1));
    if (err != cudaSuccess) {
      cudaGetLastError();  // clear the sticky-free error state of a failed allocation
      size_t free = 0, total = 0;
      cudaMemGetInfo(&free, &total);
      fail("out of GPU memory on ", name(), ": allocating ", bytes, " bytes with ", gib(free),
           " free of ", gib(total), " (", cudaGetErrorString(err),
           "): use more stages, a smaller ctx_size or batch_size, or --kv-type f16");
    }
    CUDA_CHECK(cudaMemsetAsync(p, 0, std::max<size_t>(bytes, 1), stream_.get()));
    allocated_ += bytes;
    return Buffer(this, p, bytes);
  }

  void free(void* ptr, size_t bytes) override {
    // Called from Buffer's destructor: must not throw. cudaFree waits for pending work.
    cudaSetDevice(options_.device);
    cudaFree(ptr);
    allocated_ -= std::min<uint64_t>(allocated_, bytes);
  }

  TensorView place_weight(DType dtype, int64_t rows, int64_t cols, const void* host,
                          std::vector<Buffer>& keep, WeightUse use) override {
    LLMPIPE_CHECK(dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16 ||
                      dtype == DType::Q8_0 || dtype == DType::Q4_0,
                  "the CUDA backend has no kernels for ", dtype_name(dtype), " weights yet (a [",
                  rows, ", ", cols, "] tensor); convert at load with --dtype q8_0 (or f16, q4_0)");
    TensorView v{nullptr, dtype, rows, cols};
    keep.push_back(alloc(v.bytes()));
    v.data = keep.back().data();
    const bool split = use == WeightUse::Matmul && (dtype == DType::Q8_0 || dtype == DType::Q4_0);
    Buffer staging;  // split: the GGUF blocks, rearranged from there (split_layout.cuh)
    if (split) staging = alloc(v.bytes());
    void* dst = split ? staging.data() : v.data;
    CUDA_CHECK(cudaMemcpyAsync(dst, host, v.bytes(), cudaMemcpyHostToDevice, stream_.get()));
    if (split) {
      cuda::split_quantized(v.data, staging.data(), dtype, rows, cols, stream_.get());
      v.packed_rows = cuda::kSplitScales;
    }
    // The host bytes may be a temporary conversion (and staging is freed on return): wait.
    CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    return v;
  }

  void to_host(std::span<float> dst, TensorView src) override {
    check_f32(src, "to_host source");
    LLMPIPE_CHECK(dst.size() >= size_t(src.rows * src.cols), "to_host: destination too small");
    LLMPIPE_CHECK(!graph_.recording(), "to_host while a graph is being recorded");
    use_device();
    CUDA_CHECK(
        cudaMemcpyAsync(dst.data(), src.data, src.bytes(), cudaMemcpyDeviceToHost, stream_.get()));
    CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  }

  void from_host(TensorView dst, std::span<const float> src) override {
    check_f32(dst, "from_host destination");
    LLMPIPE_CHECK(src.size() == size_t(dst.rows * dst.cols), "from_host: ", src.size(),
                  " floats for a [", dst.rows, ", ", dst.cols, "] tensor");
    use_device();
    // From pageable memory this returns once the bytes are staged: src may change afterwards.
    CUDA_CHECK(
        cudaMemcpyAsync(dst.data, src.data(), dst.bytes(), cudaMemcpyHostToDevice, stream_.get()));
  }

  void synchronize() override {
    use_device();
    CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  }

  // Decode-sized passes become one CUDA graph (graph_recorder.cuh); prefill passes are few
  // launches of long kernels and run as called. LLMPIPE_CUDA_GRAPHS=0 turns graphs off.
  void begin_graph(int64_t n_tokens) override {
    if (n_tokens > cuda::kMatvecMaxTokens) return;
    use_device();
    graph_.begin(stream_.get());
  }
  void submit_graph() override {
    use_device();
    graph_.submit(stream_.get());
  }
  void abort_graph() noexcept override { graph_.abort(stream_.get()); }

  // ---- ops ----
  void get_rows(TensorView out, TensorView table, std::span<const int32_t> ids) override {
    check_f32(out, "get_rows output");
    LLMPIPE_CHECK(out.rows == int64_t(ids.size()) && out.cols == table.cols, "get_rows: shapes");
    // Split matmul weights have no rows to copy: lookup tables are placed with WeightUse::Lookup.
    LLMPIPE_CHECK(table.packed_rows == 0, "get_rows: the table is laid out for matmul");
    for (const int32_t id : ids)
      LLMPIPE_CHECK(id >= 0 && id < table.rows, "token id ", id, " outside [0, ", table.rows, ")");
    if (ids.empty()) return;
    use_device();
    auto* d_ids = static_cast<int32_t*>(ids_.get(ids.size_bytes(), stream_.get()));
    CUDA_CHECK(cudaMemcpyAsync(d_ids, host_input(ids.data(), ids.size_bytes()), ids.size_bytes(),
                               cudaMemcpyHostToDevice, stream_.get()));
    cuda::get_rows_f32(out, table, d_ids, stream_.get());
  }

  void rms_norm(TensorView out, TensorView in, TensorView weight, float eps) override {
    check_f32(out, "rms_norm output");
    check_f32(in, "rms_norm input");
    check_f32(weight, "rms_norm weight");
    check_same_shape(out, in, "rms_norm");
    LLMPIPE_CHECK(weight.cols == in.cols, "rms_norm: weight of ", weight.cols, " for rows of ",
                  in.cols);
    use_device();
    cuda::rms_norm_f32(out, in, static_cast<const float*>(weight.data), eps, stream_.get());
  }

  void matmul(TensorView out, TensorView in, TensorView w) override {
    check_matmul_shapes(out, in, w);
    use_device();
    products_->matmul(out, in, w);
  }

  // q, k and v (one input) in one launch of the warp kernel.
  void matmul_many(std::span<const TensorView> outs, TensorView in,
                   std::span<const TensorView> ws) override {
    LLMPIPE_CHECK(outs.size() == ws.size(), "matmul_many: ", outs.size(), " outputs for ",
                  ws.size(), " weights");
    for (size_t i = 0; i < ws.size(); ++i) check_matmul_shapes(outs[i], in, ws[i]);
    use_device();
    if (!products_->matmul_many(outs, in, ws)) Backend::matmul_many(outs, in, ws);
  }

  // Gate and up rows side by side in one warp, silu(gate) * up written at once.
  void matmul_swiglu(TensorView gate, TensorView up, TensorView in, TensorView w_gate,
                     TensorView w_up) override {
    check_matmul_shapes(gate, in, w_gate);
    check_matmul_shapes(up, in, w_up);
    use_device();
    if (!products_->matmul_swiglu(gate, in, w_gate, w_up))
      Backend::matmul_swiglu(gate, up, in, w_gate, w_up);
  }

  // One int per row leaves the device, not the row.
  void argmax_rows(std::span<int32_t> ids, TensorView x) override {
    check_f32(x, "argmax_rows input");
    LLMPIPE_CHECK(ids.size() == size_t(x.rows), "argmax_rows: ", ids.size(), " ids for ", x.rows,
                  " rows");
    LLMPIPE_CHECK(!graph_.recording(), "argmax_rows while a graph is being recorded");
    if (ids.empty()) return;
    use_device();
    auto* d_ids = static_cast<int32_t*>(argmax_ids_.get(ids.size_bytes(), stream_.get()));
    cuda::argmax_rows_f32(d_ids, x, stream_.get());
    CUDA_CHECK(cudaMemcpyAsync(ids.data(), d_ids, ids.size_bytes(), cudaMemcpyDeviceToHost,
                               stream_.get()));
    CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  }

  void add_rms_norm(TensorView out, TensorView x, TensorView y, TensorView weight,
                    float eps) override {
    if (products_->decode_kernels() == cuda::DecodeKernels::Block)
      return Backend::add_rms_norm(out, x, y, weight, eps);
    check_f32(out, "add_rms_norm output");
    check_f32(x, "add_rms_norm input");
    check_f32(y, "add_rms_norm residual");
    check_f32(weight, "add_rms_norm weight");
    check_same_shape(x, y, "add_rms_norm");
    check_same_shape(out, x, "add_rms_norm");
    LLMPIPE_CHECK(weight.cols == x.cols, "add_rms_norm: weight of ", weight.cols, " for rows of ",
                  x.cols);
    use_device();
    cuda::rms_norm_f32(out, x, static_cast<const float*>(weight.data), eps, stream_.get(),
                       static_cast<const float*>(y.data));
  }

  void rope(TensorView x, const BatchLayout& batch, const RopeParams& params) override {
    check_rope(x, batch, params);
    use_device();
    const cuda::DeviceBatch b = upload(batch);
    cuda::rope_apply_f32(x, rope_table(b, params), params.head_dim, params.style, stream_.get());
  }

  void store_kv(KvView cache, TensorView k, TensorView v, const BatchLayout& batch) override {
    check_store_kv(cache, k, v, batch);
    use_device();
    cuda::store_kv_f32(cache, k, v, upload(batch), stream_.get());
  }

  void rope_store_kv(TensorView q, TensorView k, TensorView v, KvView cache,
                     const BatchLayout& batch, const RopeParams& params) override {
    if (products_->decode_kernels() == cuda::DecodeKernels::Block)
      return Backend::rope_store_kv(q, k, v, cache, batch, params);
    check_rope(q, batch, params);
    check_rope(k, batch, params);
    check_store_kv(cache, k, v, batch);
    use_device();
    const cuda::DeviceBatch b = upload(batch);
    cuda::rope_store_kv_f32(q, k, v, cache, rope_table(b, params), b, params.head_dim,
                            params.style, stream_.get());
  }

  void attention(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                 AttentionShape shape) override {
    LLMPIPE_CHECK(shape.n_head_kv > 0 && shape.n_head % shape.n_head_kv == 0 &&
                      q.cols == shape.n_head * shape.head_dim && q.rows == batch.n_tokens() &&
                      out.rows == q.rows && out.cols == q.cols,
                  "attention: shapes");
    LLMPIPE_CHECK(shape.head_dim >= 1 && shape.head_dim <= cuda::kMaxHeadDim,
                  "attention: head_dim ", shape.head_dim, " above the CUDA kernel's ",
                  cuda::kMaxHeadDim);
    LLMPIPE_CHECK(cache.k.cols == int64_t(shape.n_head_kv) * shape.head_dim,
                  "attention: cache rows of ", cache.k.cols, " for ", shape.n_head_kv,
                  " KV heads of ", shape.head_dim);
    if (q.rows == 0) return;
    use_device();
    const cuda::DeviceBatch b = upload(batch);
    const int64_t items = q.rows * shape.n_head;
    const auto plan = cuda::plan_attention(items, b.max_position + 1, props_.multiProcessorCount);
    auto* partials = static_cast<float*>(
        partials_.get(cuda::attention_partials_bytes(items, plan, shape.head_dim), stream_.get()));
    cuda::attention_f32(out, q, cache, b, shape, plan, partials, stream_.get());
  }

  void swiglu(TensorView gate, TensorView up) override {
    check_same_shape(gate, up, "swiglu");
    use_device();
    cuda::swiglu_f32(static_cast<float*>(gate.data), static_cast<const float*>(up.data),
                     gate.rows * gate.cols, stream_.get());
  }

  void add(TensorView x, TensorView y) override {
    check_same_shape(x, y, "add");
    use_device();
    cuda::add_f32(static_cast<float*>(x.data), static_cast<const float*>(y.data), x.rows * x.cols,
                  stream_.get());
  }

  void add_rows(TensorView x, TensorView bias) override {
    check_f32(x, "add_rows input");
    check_f32(bias, "add_rows bias");
    LLMPIPE_CHECK(bias.rows == 1 && bias.cols == x.cols, "add_rows: bias [", bias.rows, ", ",
                  bias.cols, "] for rows of ", x.cols, ", expected [1, ", x.cols, "]");
    use_device();
    cuda::add_rows_f32(static_cast<float*>(x.data), static_cast<const float*>(bias.data), x.rows,
                       x.cols, stream_.get());
  }

 private:
  // Ranks may run as threads of one process (in-process transport): each call makes sure the
  // calling thread talks to this backend's device.
  void use_device() { CUDA_CHECK(cudaSetDevice(options_.device)); }

  // Host bytes for a copy to the device: as they are, or a pinned copy while recording a graph.
  const void* host_input(const void* host, size_t bytes) {
    return graph_.recording() ? graph_.stage(host, bytes) : host;
  }

  // The batch's positions and slots on the device, copied only when they changed.
  cuda::DeviceBatch upload(const BatchLayout& batch) {
    const size_t n = batch.positions.size();
    const bool same =
        n == positions_host_.size() && batch.slots.size() == n &&
        std::equal(batch.positions.begin(), batch.positions.end(), positions_host_.begin()) &&
        std::equal(batch.slots.begin(), batch.slots.end(), slots_host_.begin());
    if (!same) {
      LLMPIPE_CHECK(batch.slots.size() == n, "batch layout: ", batch.slots.size(), " slots for ", n,
                    " positions");
      rope_table_valid_ = false;  // its angles are the old positions'
      positions_host_.assign(batch.positions.begin(), batch.positions.end());
      slots_host_.assign(batch.slots.begin(), batch.slots.end());
      max_position_ = 0;
      for (const int32_t p : positions_host_) {
        LLMPIPE_CHECK(p >= 0, "negative position ", p);
        max_position_ = std::max(max_position_, p);
      }
      const size_t bytes = std::max<size_t>(n, 1) * sizeof(int32_t);
      auto* pos = static_cast<int32_t*>(positions_dev_.get(bytes, stream_.get()));
      auto* slots = static_cast<int32_t*>(slots_dev_.get(bytes, stream_.get()));
      // Copies are ordered on the stream after the kernels that read the previous layout.
      CUDA_CHECK(cudaMemcpyAsync(pos, host_input(positions_host_.data(), n * sizeof(int32_t)),
                                 n * sizeof(int32_t), cudaMemcpyHostToDevice, stream_.get()));
      CUDA_CHECK(cudaMemcpyAsync(slots, host_input(slots_host_.data(), n * sizeof(int32_t)),
                                 n * sizeof(int32_t), cudaMemcpyHostToDevice, stream_.get()));
    }
    return {static_cast<const int32_t*>(positions_dev_.get(0, stream_.get())),
            static_cast<const int32_t*>(slots_dev_.get(0, stream_.get())), int64_t(n),
            max_position_};
  }

  static void check_rope(TensorView x, const BatchLayout& batch, const RopeParams& params) {
    check_f32(x, "rope input");
    const int head_dim = params.head_dim;
    LLMPIPE_CHECK(
        x.rows == batch.n_tokens() && head_dim > 0 && x.cols % head_dim == 0 && head_dim % 2 == 0,
        "rope: shapes");
    if (params.freq_factors.data) {
      check_f32(params.freq_factors, "rope frequency factors");
      LLMPIPE_CHECK(params.freq_factors.rows * params.freq_factors.cols == head_dim / 2,
                    "rope: ", params.freq_factors.cols, " frequency factors for heads of ",
                    head_dim, ", expected ", head_dim / 2);
    }
  }

  static void check_store_kv(KvView cache, TensorView k, TensorView v, const BatchLayout& batch) {
    // The kernels (store_kv, rope_store_kv, attention) index k, v and both caches by k's width.
    LLMPIPE_CHECK(k.rows == batch.n_tokens() && v.rows == k.rows && k.cols == cache.k.cols &&
                      v.cols == k.cols && cache.v.cols == cache.k.cols &&
                      cache.v.rows == cache.k.rows && cache.v.dtype == cache.k.dtype,
                  "store_kv: k [", k.rows, ", ", k.cols, "], v [", v.rows, ", ", v.cols,
                  "], cache k [", cache.k.rows, ", ", cache.k.cols, "] v [", cache.v.rows, ", ",
                  cache.v.cols, "]: expected k and v of the caches' width, one row per token");
    check_f32(k, "store_kv k");
    check_f32(v, "store_kv v");
    for (int64_t t = 0; t < k.rows; ++t) {
      const int64_t slot = batch.slots[size_t(t)], pos = batch.positions[size_t(t)];
      LLMPIPE_CHECK(
          pos >= 0 && pos < cache.n_ctx && slot >= 0 && (slot + 1) * cache.n_ctx <= cache.k.rows,
          "store_kv: slot ", slot, " position ", pos, " outside the cache");
    }
  }

  // The (cos, sin) table of the batch's angles, computed when the layout or the rope
  // parameters changed since the last call.
  const float2* rope_table(const cuda::DeviceBatch& b, const RopeParams& params) {
    // The angles do not depend on the style; the factors are compared by address (a weight
    // placed once per stage).
    const RopeParams& last = rope_params_;
    const bool same = last.head_dim == params.head_dim && last.freq_base == params.freq_base &&
                      last.position_scale == params.position_scale &&
                      last.freq_factors.data == params.freq_factors.data;
    if (!rope_table_valid_ || !same) {
      const size_t bytes = size_t(b.n_tokens) * size_t(params.head_dim / 2) * sizeof(float2);
      cuda::rope_angles_f32(static_cast<float2*>(rope_table_.get(bytes, stream_.get())), b,
                            params, stream_.get());
      rope_table_valid_ = true;
      rope_params_ = params;
    }
    return static_cast<const float2*>(rope_table_.get(0, stream_.get()));
  }

  CudaBackendOptions options_;
  cudaDeviceProp props_{};
  cuda::Stream stream_;
  cuda::DeviceScratch cublas_workspace_;
  cuda::CublasHandle cublas_;
  cuda::GraphRecorder graph_{graphs_enabled()};
  // Scratch, each owned by one kind of op (ops run in stream order, so reuse is safe; a scratch
  // only grows, after waiting for the stream).
  std::optional<cuda::Products> products_;  // after stream_ and cublas_, made in the constructor
  DeviceScratch partials_, ids_, argmax_ids_, positions_dev_, slots_dev_;
  // (cos, sin) of the current batch's rope angles, [n_tokens, head_dim / 2]: every layer
  // rotates with the same angles, so they are computed once per batch layout.
  DeviceScratch rope_table_;
  bool rope_table_valid_ = false;
  RopeParams rope_params_;  // the table's parameters
  std::vector<int32_t> positions_host_, slots_host_;
  int32_t max_position_ = 0;
  uint64_t allocated_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

std::string cuda_device_summary() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return cat("no usable CUDA device (", cudaGetErrorString(err), ")");
  }
  if (n == 0) return "no CUDA device";
  std::string s;
  for (int d = 0; d < n; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
    s += cat(s.empty() ? "" : "\n", "cuda:", d, " ", p.name, ", sm_", p.major, p.minor, ", ",
             gib(p.totalGlobalMem));
  }
  return s;
}

std::optional<CudaMemoryInfo> cuda_backend_memory(Backend& backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  if (!cuda) return std::nullopt;
  return cuda->memory();
}

std::optional<int> cuda_backend_device(Backend& backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  if (!cuda) return std::nullopt;
  return cuda->device();
}

std::optional<std::string> cuda_backend_uuid(Backend& backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  if (!cuda) return std::nullopt;
  return cuda->uuid();
}

void* cuda_backend_stream(Backend& backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  return cuda ? static_cast<void*>(cuda->stream()) : nullptr;
}

uint64_t cuda_reserved_workspace_bytes(const CudaBackendOptions& options) {
  return options.tile_workspace_bytes + CudaBackend::kCublasWorkspaceBytes;
}

}  // namespace llmpipe
