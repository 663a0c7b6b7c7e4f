// Whether this process can use a GPU, told apart from why not: a machine without NVIDIA's driver
// or without a device has none (tests skip), but a driver that is installed and fails (a
// mismatched kernel module, a device in a bad state) is an error (tests fail, never "skipped").
// Plain C++: usable from tests and tools without CUDA headers.
#pragma once

#include <string>

namespace llmpipe {

struct CudaProbe {
  enum class State {
    Absent,  // no NVIDIA driver (libcuda.so.1 not loadable) or no device visible
    Usable,  // devices > 0
    Broken,  // the driver is there but CUDA fails: `detail` says how
  };
  State state = State::Absent;
  int devices = 0;
  std::string detail;  // the CUDA error or the reason for Absent
};

CudaProbe probe_cuda();

}  // namespace llmpipe
