// Records a stream's work between begin() and submit() as a CUDA graph and launches it as one
// unit. A decode step of a 3B model is ~450 kernels of a few microseconds each; launched one by
// one they were bounded by the launch cost (bench/RESULTS.md), as one graph they are not.
// Consecutive steps usually differ only in kernel arguments (positions, attention splits), so
// the executable graph is updated in place (cudaGraphExecUpdate) and instantiated anew only when
// its shape changed.
#pragma once

#include <cstring>

#include "kernels/cuda/raii.cuh"

namespace llmpipe::cuda {

class GraphRecorder {
 public:
  explicit GraphRecorder(bool enabled) : enabled_(enabled) {}

  bool recording() const { return recording_; }

  // Starts recording `stream` (no-op when disabled). Waits for the previous graph first: the
  // staging memory it read is reused.
  void begin(cudaStream_t stream) {
    if (!enabled_) return;
    if (launched_) CUDA_CHECK(cudaEventSynchronize(done_.get()));
    staging_used_ = 0;
    // Relaxed: scratch buffers may grow (cudaMalloc) while recording; see DeviceScratch.
    CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed));
    recording_ = true;
  }

  // Ends recording and launches what was recorded on `stream`.
  void submit(cudaStream_t stream) {
    if (!recording_) return;
    recording_ = false;
    cudaGraph_t raw = nullptr;
    CUDA_CHECK(cudaStreamEndCapture(stream, &raw));
    const Graph graph(raw);
    if (exec_) {
      cudaGraphExecUpdateResultInfo info{};
      if (cudaGraphExecUpdate(exec_.get(), graph.get(), &info) != cudaSuccess) {
        cudaGetLastError();  // not sticky: the shape changed, instantiate below
        exec_.reset();
      }
    }
    if (!exec_) {
      cudaGraphExec_t e = nullptr;
      CUDA_CHECK(cudaGraphInstantiate(&e, graph.get(), 0));
      exec_ = GraphExec(e);
    }
    CUDA_CHECK(cudaGraphLaunch(exec_.get(), stream));
    CUDA_CHECK(cudaEventRecord(done_.get(), stream));
    launched_ = true;
  }

  // Ends recording and drops it (an op failed while recording).
  void abort(cudaStream_t stream) noexcept {
    if (!recording_) return;
    recording_ = false;
    cudaGraph_t raw = nullptr;
    if (cudaStreamEndCapture(stream, &raw) == cudaSuccess && raw) cudaGraphDestroy(raw);
    cudaGetLastError();
  }

  // A pinned copy of `bytes` host bytes, valid until the recorded graph has run: recorded
  // copies read their source when the graph runs, and pageable memory cannot be recorded.
  const void* stage(const void* host, size_t bytes) {
    const size_t at = (staging_used_ + 15) & ~size_t(15);
    LLMPIPE_CHECK(at + bytes <= kStagingBytes, "CUDA graph staging: ", at + bytes,
                  " bytes of host inputs in one step, at most ", kStagingBytes);
    auto* dst = static_cast<unsigned char*>(staging_.get()) + at;
    std::memcpy(dst, host, bytes);
    staging_used_ = at + bytes;
    return dst;
  }

 private:
  static constexpr size_t kStagingBytes = size_t(64) << 10;  // ids, positions, slots of a step

  bool enabled_;
  bool recording_ = false;
  bool launched_ = false;
  PinnedMemory staging_ = make_pinned(kStagingBytes);
  size_t staging_used_ = 0;
  Event done_ = make_event();
  GraphExec exec_;
};

}  // namespace llmpipe::cuda
