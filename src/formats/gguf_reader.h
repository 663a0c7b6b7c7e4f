// GGUF reader: opening reads and validates the header (metadata and tensor infos) with bounds
// checks against the file size; tensor bytes are never read here. A component maps the tensors
// it needs with map_tensor(), so a pipeline stage maps only its own layers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "formats/gguf.h"

namespace llmpipe::gguf {

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;  // GGUF order: shape[0] is the contiguous dimension
  uint64_t offset = 0;         // absolute byte offset in the file
  uint64_t bytes = 0;

  int64_t n_elements() const;
  int64_t rows() const;  // product of shape[1..]; 1 for a vector
  int64_t cols() const { return shape.empty() ? 1 : shape[0]; }
  std::string shape_string() const;  // "[64, 512]"
};

class Reader {
 public:
  // Reads the header of `path`. Every inconsistency (bad magic, unsupported version, truncated
  // header, absurd counts, unknown tensor type, data past the end of the file) is an Error that
  // names the file and what is wrong.
  static Reader open(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t file_size() const { return file_size_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  std::span<const KeyValue> metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;  // nullptr if absent

  // Typed look-ups: nullopt when absent; an Error naming the key when present with another type.
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::string> get_string(std::string_view key) const;
  const Array* get_array(std::string_view key) const;

  std::span<const TensorInfo> tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;  // nullptr if absent

  // Maps exactly this tensor's bytes (page-aligned internally).
  MappedRegion map_tensor(const TensorInfo& t) const;

 private:
  std::string path_;
  uint32_t version_ = 0;
  uint64_t file_size_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> metadata_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;  // name -> index in tensors_
};

}  // namespace llmpipe::gguf
