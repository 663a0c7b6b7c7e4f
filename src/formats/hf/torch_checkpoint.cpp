#include "formats/hf/torch_checkpoint.h"

#include "core/error.h"

namespace llmpipe::hf {

std::vector<CheckpointTensor> read_torch_checkpoint(const std::string& path) {
  fail(path, ": PyTorch checkpoints are not supported yet");
}

}  // namespace llmpipe::hf
