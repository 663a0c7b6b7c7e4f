// Byte-level construction of GGUF files for reader tests: files the writer cannot produce
// (version 2, corrupt counts, unknown types, truncations) are spelled out field by field here,
// following the format definition rather than the writer's code.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace llmpipe::test {

// Little-endian byte buffer (the test machines are little-endian, as GGUF is).
struct Bytes {
  std::vector<uint8_t> b;

  Bytes& raw(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
    return *this;
  }
  template <typename T>
  Bytes& put(T v) {
    return raw(&v, sizeof v);
  }
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& i64(int64_t v) { return put(v); }
  // GGUF string: u64 length, then the bytes (no terminator).
  Bytes& str(const std::string& s) {
    u64(s.size());
    return raw(s.data(), s.size());
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  Bytes& pad_to(size_t alignment) {
    return zeros((alignment - b.size() % alignment) % alignment);
  }
  size_t size() const { return b.size(); }
};

// GGUF header: magic "GGUF", u32 version, u64 tensor count, u64 metadata count.
inline Bytes gguf_header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
  Bytes out;
  out.raw("GGUF", 4).u32(version).u64(n_tensors).u64(n_kv);
  return out;
}

// One tensor info: name, u32 n_dims, u64 per dim, u32 ggml type, u64 offset (from data start).
inline void tensor_info(Bytes& out, const std::string& name, const std::vector<int64_t>& dims,
                        uint32_t ggml_type, uint64_t offset) {
  out.str(name).u32(uint32_t(dims.size()));
  for (int64_t d : dims) out.i64(d);
  out.u32(ggml_type).u64(offset);
}

inline constexpr uint32_t kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ4_0 = 2, kGgmlQ8_0 = 8,
                          kGgmlQ4_K = 12, kGgmlBF16 = 30;
// Metadata value type ids.
inline constexpr uint32_t kTypeU8 = 0, kTypeU32 = 4, kTypeI32 = 5, kTypeF32 = 6, kTypeBool = 7,
                          kTypeString = 8, kTypeArray = 9, kTypeU64 = 10;

// A small valid file: one string key "general.name" = "x", one F32 tensor "t" of shape [32],
// data filled with 0, 1, 2, ... Tests corrupt copies of it.
struct ValidFile {
  Bytes bytes;
  size_t kv_start = 0, tensor_info_start = 0, data_start = 0;
};
inline ValidFile valid_file(uint32_t version = 3) {
  ValidFile f;
  f.bytes = gguf_header(1, 1, version);
  f.kv_start = f.bytes.size();
  f.bytes.str("general.name").u32(kTypeString).str("x");
  f.tensor_info_start = f.bytes.size();
  tensor_info(f.bytes, "t", {32}, kGgmlF32, 0);
  f.bytes.pad_to(32);
  f.data_start = f.bytes.size();
  for (int i = 0; i < 32; ++i) f.bytes.put(float(i));
  return f;
}

}  // namespace llmpipe::test
