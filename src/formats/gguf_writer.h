// GGUF writer (version 3), streaming: declare metadata and tensors, write the header, then write
// each tensor's bytes in declaration order. Memory use stays small however large the model is.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/gguf.h"

namespace llmpipe::gguf {

class Writer {
 public:
  explicit Writer(uint64_t alignment = kDefaultAlignment);

  void set(std::string key, Value value);
  void set_u32(std::string key, uint32_t v) { set(std::move(key), Value{v}); }
  void set_i32(std::string key, int32_t v) { set(std::move(key), Value{v}); }
  void set_f32(std::string key, float v) { set(std::move(key), Value{v}); }
  void set_bool(std::string key, bool v) { set(std::move(key), Value{v}); }
  void set_string(std::string key, std::string v) { set(std::move(key), Value{std::move(v)}); }
  void set_string_array(std::string key, const std::vector<std::string>& items);
  void set_f32_array(std::string key, std::span<const float> items);
  void set_i32_array(std::string key, std::span<const int32_t> items);

  // shape in GGUF order (shape[0] contiguous); shape[0] must be a multiple of the block size.
  void add_tensor(std::string name, DType dtype, std::vector<int64_t> shape);

  // Writes magic, metadata, tensor infos and padding; afterwards write_tensor_data() once per
  // tensor, in the order they were added, then finish().
  void begin(const std::string& path);
  void write_tensor_data(std::span<const uint8_t> bytes);
  // The same in pieces, for tensors too large to hold: appends to the current tensor; when its
  // declared size is reached the writer pads and moves on to the next tensor.
  void write_tensor_part(std::span<const uint8_t> bytes);
  size_t tensor_count() const { return tensors_.size(); }
  void finish();  // checks every tensor was written, flushes and closes

  // Convenience for small files: all tensors' bytes at once, in declaration order.
  void write_all(const std::string& path, const std::vector<std::span<const uint8_t>>& data);

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    uint64_t bytes;
  };
  void put(const void* p, size_t n);
  void pad_to_alignment();

  uint64_t alignment_;
  std::vector<KeyValue> metadata_;
  std::vector<PendingTensor> tensors_;
  std::unique_ptr<FILE, int (*)(FILE*)> out_{nullptr, &std::fclose};
  std::string path_;
  uint64_t written_ = 0;  // bytes written so far
  size_t next_tensor_ = 0;
  uint64_t current_done_ = 0;  // bytes of tensor next_tensor_ written so far
};

}  // namespace llmpipe::gguf
