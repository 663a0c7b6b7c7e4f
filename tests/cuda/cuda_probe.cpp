// Exit status for scripts: 0 with a usable GPU, 77 (CTest: skipped) without one (no NVIDIA
// driver, or no device), 1 when the driver is there but CUDA fails, which tests must report as
// a failure rather than a skip. Prints what it found.
#include <cstdio>

#include "kernels/cuda/device_probe.h"

int main() {
  const llmpipe::CudaProbe probe = llmpipe::probe_cuda();
  switch (probe.state) {
    case llmpipe::CudaProbe::State::Usable:
      std::printf("%s\n", probe.detail.c_str());
      return 0;
    case llmpipe::CudaProbe::State::Absent:
      std::printf("no GPU: %s\n", probe.detail.c_str());
      return 77;
    case llmpipe::CudaProbe::State::Broken:
      std::fprintf(stderr, "CUDA is broken here: %s\n", probe.detail.c_str());
      return 1;
  }
  return 1;
}
