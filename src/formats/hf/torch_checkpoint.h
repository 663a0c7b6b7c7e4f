// PyTorch checkpoints as torch.save writes them (pytorch_model.bin): a zip archive (stored
// entries) holding <prefix>/data.pkl, the pickled state dict, and <prefix>/data/<key>, the raw
// bytes of each storage. The pickle is interpreted by a safe unpickler that only builds
// dicts, tuples and tensors (formats/hf/pickle.h): no code from the file is ever run.
#pragma once

#include <string>
#include <vector>

#include "formats/hf/checkpoint_tensor.h"

namespace llmpipe::hf {

// Every tensor of the state dict, with its byte range in `path`. Tensors must be contiguous
// (row-major strides) and lie inside their storage; errors name the file and the tensor.
std::vector<CheckpointTensor> read_torch_checkpoint(const std::string& path);

}  // namespace llmpipe::hf
