// The central directory of a zip archive (as torch.save writes: stored entries, zip64 when large),
// read from a memory mapping of the file: only the directory's pages are touched. Entries' data
// offsets come from their local headers; compressed or encrypted entries are reported as such.
// CRCs are not verified (that would read every byte of every tensor).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.h"

namespace llmpipe::hf {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0: stored
  uint64_t compressed_size = 0;
  uint64_t size = 0;         // uncompressed
  uint64_t data_offset = 0;  // absolute offset of the (stored) bytes in the file
};

// Parses the archive in `file` (its whole bytes); `path` names it in errors. Every offset and
// size is checked against the file. Pure function of its inputs (fuzzed).
std::vector<ZipEntry> parse_zip_directory(std::span<const uint8_t> file, const std::string& path);

class ZipArchive {
 public:
  static ZipArchive open(const std::string& path);
  const std::string& path() const { return path_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;
  // The bytes of a stored entry (an Error names the entry if it is compressed).
  std::span<const uint8_t> stored_bytes(const ZipEntry& e) const;

 private:
  std::string path_;
  std::shared_ptr<MappedRegion> map_;
  std::vector<ZipEntry> entries_;
};

}  // namespace llmpipe::hf
