// The weight files of a Hugging Face model directory, opened lazily: model.safetensors,
// model.safetensors.index.json (+ shards), pytorch_model.bin or pytorch_model.bin.index.json
// (+ shards). Opening reads only the index; a shard's header is read the first time one of its
// tensors is asked for, so a pipeline stage opens only the shards holding its own tensors.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/hf/checkpoint_tensor.h"

namespace llmpipe::hf {

enum class CheckpointFormat { Safetensors, Torch };
std::string_view checkpoint_format_name(CheckpointFormat f);

class CheckpointSet {
 public:
  // Finds the weights in `dir` (safetensors preferred). Errors name the directory and what
  // is missing; an index must name existing shard files inside the directory.
  static CheckpointSet open(const std::string& dir);

  const std::string& origin() const { return origin_; }  // the index or the single file
  CheckpointFormat format() const { return format_; }
  std::vector<std::string> shard_files() const;  // full paths
  // Stored tensor `name`, or nullptr if the checkpoint has none; opens its shard if needed.
  const CheckpointTensor* find(std::string_view name) const;
  // Every tensor name (opens every shard for a single file; an index lists them).
  std::vector<std::string> names() const;
  // Shards whose headers have been read so far (for tests of laziness and the rank log).
  size_t shards_opened() const;
  std::vector<std::string> opened_files() const;

 private:
  using Shard = std::map<std::string, CheckpointTensor, std::less<>>;
  const Shard& shard(const std::string& file) const;

  std::string origin_;
  CheckpointFormat format_ = CheckpointFormat::Safetensors;
  std::map<std::string, std::string, std::less<>> weight_map_;  // tensor -> shard path
  std::string single_file_;                                     // when there is no index
  mutable std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
  mutable std::map<std::string, std::unique_ptr<Shard>> opened_;
};

// Reads a weight index (*.index.json): {"weight_map": {tensor: shard file}}; shard paths are
// resolved against the index's directory and must stay inside it.
std::map<std::string, std::string, std::less<>> read_weight_index(const std::string& path);

}  // namespace llmpipe::hf
