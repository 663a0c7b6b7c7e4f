#include "formats/gguf_writer.h"

#include <cerrno>
#include <cstring>
#include <functional>

#include "core/error.h"

namespace llmpipe::gguf {

Writer::Writer(uint64_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    fail("GGUF alignment ", alignment, " is not a power of two");
  if (alignment != kDefaultAlignment) set_u32("general.alignment", uint32_t(alignment));
}

void Writer::set(std::string key, Value value) {
  for (auto& kv : metadata_)
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  metadata_.push_back({std::move(key), std::move(value)});
}

void Writer::set_string_array(std::string key, const std::vector<std::string>& items) {
  Array a{ValueType::String, {}};
  a.items.reserve(items.size());
  for (const auto& s : items) a.items.push_back(Value{s});
  set(std::move(key), Value{std::move(a)});
}

void Writer::set_f32_array(std::string key, std::span<const float> items) {
  Array a{ValueType::F32, {}};
  for (float f : items) a.items.push_back(Value{f});
  set(std::move(key), Value{std::move(a)});
}

void Writer::set_i32_array(std::string key, std::span<const int32_t> items) {
  Array a{ValueType::I32, {}};
  for (int32_t i : items) a.items.push_back(Value{i});
  set(std::move(key), Value{std::move(a)});
}

void Writer::add_tensor(std::string name, DType dtype, std::vector<int64_t> shape) {
  if (out_) fail("GGUF writer: add_tensor(", name, ") after begin()");
  if (shape.empty()) fail("GGUF writer: tensor ", name, " has no dimensions");
  uint64_t rows = 1;
  for (size_t i = 1; i < shape.size(); ++i) rows *= uint64_t(shape[i]);
  const uint64_t bytes = dtype_row_bytes(dtype, shape[0]) * rows;
  tensors_.push_back({std::move(name), dtype, std::move(shape), bytes});
}

void Writer::put(const void* p, size_t n) {
  if (n && std::fwrite(p, 1, n, out_.get()) != n)
    fail("cannot write ", path_, ": ", std::strerror(errno));
  written_ += n;
}

void Writer::pad_to_alignment() {
  static const uint8_t zeros[256] = {};
  uint64_t pad = (alignment_ - written_ % alignment_) % alignment_;
  while (pad) {
    const uint64_t n = pad < sizeof zeros ? pad : sizeof zeros;
    put(zeros, n);
    pad -= n;
  }
}

void Writer::begin(const std::string& path) {
  path_ = path;
  out_.reset(std::fopen(path.c_str(), "wb"));
  if (!out_) fail("cannot create ", path, ": ", std::strerror(errno));
  written_ = 0;
  next_tensor_ = 0;
  current_done_ = 0;

  auto u32 = [&](uint32_t v) { put(&v, 4); };
  auto u64 = [&](uint64_t v) { put(&v, 8); };
  auto str = [&](const std::string& s) {
    u64(s.size());
    put(s.data(), s.size());
  };
  // Writes the payload of a value (its type tag is written by the caller).
  std::function<void(const Value&)> payload = [&](const Value& v) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            str(x);
          } else if constexpr (std::is_same_v<T, Array>) {
            u32(uint32_t(x.type));
            u64(x.items.size());
            for (const auto& item : x.items) {
              if (item.type() != x.type)
                fail("GGUF writer: array of ", value_type_name(x.type), " holds a ",
                     value_type_name(item.type()));
              payload(item);
            }
          } else if constexpr (std::is_same_v<T, bool>) {
            const uint8_t b = x ? 1 : 0;
            put(&b, 1);
          } else {
            put(&x, sizeof x);
          }
        },
        v.v);
  };

  u32(kMagic);
  u32(3);
  u64(tensors_.size());
  u64(metadata_.size());
  for (const auto& kv : metadata_) {
    str(kv.key);
    u32(uint32_t(kv.value.type()));
    payload(kv.value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    str(t.name);
    u32(uint32_t(t.shape.size()));
    for (int64_t d : t.shape) u64(uint64_t(d));
    u32(dtype_to_ggml(t.dtype));
    u64(offset);
    offset += (t.bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  pad_to_alignment();
}

void Writer::write_tensor_data(std::span<const uint8_t> bytes) {
  if (!out_) fail("GGUF writer: write_tensor_data() before begin()");
  if (next_tensor_ >= tensors_.size()) fail("GGUF writer: more tensor data than tensors");
  const auto& t = tensors_[next_tensor_];
  if (current_done_ != 0)
    fail("GGUF writer: tensor ", t.name, " was partly written (", current_done_, " of ", t.bytes,
         " bytes)");
  if (bytes.size() != t.bytes)
    fail("GGUF writer: tensor ", t.name, " needs ", t.bytes, " bytes, got ", bytes.size());
  write_tensor_part(bytes);
}

void Writer::write_tensor_part(std::span<const uint8_t> bytes) {
  if (!out_) fail("GGUF writer: write_tensor_part() before begin()");
  if (next_tensor_ >= tensors_.size()) fail("GGUF writer: more tensor data than tensors");
  const auto& t = tensors_[next_tensor_];
  if (bytes.size() > t.bytes - current_done_)
    fail("GGUF writer: tensor ", t.name, " needs ", t.bytes, " bytes, got ",
         current_done_ + bytes.size());
  put(bytes.data(), bytes.size());
  current_done_ += bytes.size();
  if (current_done_ == t.bytes) {
    pad_to_alignment();
    ++next_tensor_;
    current_done_ = 0;
  }
}

void Writer::finish() {
  if (!out_) fail("GGUF writer: finish() before begin()");
  if (next_tensor_ != tensors_.size())
    fail("GGUF writer: ", tensors_.size() - next_tensor_, " tensors of ", path_,
         " were declared but not written");
  if (std::fflush(out_.get()) != 0) fail("cannot write ", path_, ": ", std::strerror(errno));
  FILE* f = out_.release();
  if (std::fclose(f) != 0) fail("cannot close ", path_, ": ", std::strerror(errno));
}

void Writer::write_all(const std::string& path,
                       const std::vector<std::span<const uint8_t>>& data) {
  begin(path);
  for (const auto& d : data) write_tensor_data(d);
  finish();
}

}  // namespace llmpipe::gguf
