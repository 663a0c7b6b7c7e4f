// A named NVTX range for the whole scope (shown by Nsight Systems next to the GPU's kernels):
// stage compute, send and receive. Plain C++: without CUDA (LLMPIPE_HAVE_NVTX unset) it does
// nothing, and with it only nvtx_range.cpp sees the NVTX header.
#pragma once

namespace llmpipe {

class NvtxRange {
 public:
  explicit NvtxRange(const char* name);  // `name` must outlive nothing: NVTX copies it
  ~NvtxRange();
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace llmpipe
