// Read-only memory mapping of a byte range of a file (RAII). Mapping touches no data: pages are
// read when first used, so a pipeline stage that maps only its own tensors reads only those.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace llmpipe {

class MappedRegion {
 public:
  MappedRegion() = default;
  // Maps bytes [offset, offset + length) of `path`; fails with a clear error if the range is
  // not inside the file.
  MappedRegion(const std::string& path, uint64_t offset, size_t length);
  MappedRegion(MappedRegion&& other) noexcept;
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  ~MappedRegion();

  const uint8_t* data() const { return data_; }
  size_t size() const { return length_; }
  std::span<const uint8_t> bytes() const { return {data_, length_}; }

 private:
  void* base_ = nullptr;  // page-aligned start of the mapping
  size_t mapped_ = 0;     // bytes mapped from base_
  const uint8_t* data_ = nullptr;
  size_t length_ = 0;
};

// Size of a file in bytes, with an error naming the path if it cannot be read.
uint64_t file_size_of(const std::string& path);

}  // namespace llmpipe
