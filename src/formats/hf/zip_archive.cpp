#include "formats/hf/zip_archive.h"

#include <algorithm>

#include "core/error.h"

namespace llmpipe::hf {

namespace {

constexpr uint32_t kEocdSig = 0x06054b50, kZip64LocatorSig = 0x07064b50,
                   kZip64EocdSig = 0x06064b50, kCentralSig = 0x02014b50, kLocalSig = 0x04034b50;

// Bounds-checked little-endian reads from the file bytes.
class Bytes {
 public:
  Bytes(std::span<const uint8_t> d, const std::string& path) : d_(d), path_(path) {}
  uint64_t size() const { return d_.size(); }
  uint64_t u(uint64_t off, int n, const char* what) const {
    if (off > d_.size() || uint64_t(n) > d_.size() - off)
      fail(path_, ": zip ", what, " at byte ", off, " lies past the end of the file (", d_.size(),
           " bytes): truncated or not a zip archive");
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | d_[size_t(off) + size_t(i)];
    return v;
  }
  std::span<const uint8_t> span(uint64_t off, uint64_t n, const char* what) const {
    if (off > d_.size() || n > d_.size() - off)
      fail(path_, ": zip ", what, " [", off, ", +", n, ") lies past the end of the file (",
           d_.size(), " bytes)");
    return d_.subspan(size_t(off), size_t(n));
  }

 private:
  std::span<const uint8_t> d_;
  const std::string& path_;
};

// Reads the zip64 extra field (id 1) values for those fields that are 0xffffffff.
void apply_zip64_extra(std::span<const uint8_t> extra, uint64_t& usize, uint64_t& csize,
                       uint64_t& offset, const std::string& path, const std::string& name) {
  size_t p = 0;
  while (p + 4 <= extra.size()) {
    const uint16_t id = uint16_t(extra[p] | extra[p + 1] << 8);
    const uint16_t len = uint16_t(extra[p + 2] | extra[p + 3] << 8);
    p += 4;
    if (len > extra.size() - p) fail(path, ": zip entry ", name, ": extra field overruns");
    if (id == 1) {
      size_t q = p;
      auto take = [&](uint64_t& v) {
        if (v != 0xffffffffu) return;
        if (q + 8 > p + len) fail(path, ": zip entry ", name, ": zip64 extra field too short");
        v = 0;
        for (int i = 7; i >= 0; --i) v = (v << 8) | extra[q + size_t(i)];
        q += 8;
      };
      take(usize);
      take(csize);
      take(offset);
    }
    p += len;
  }
}

}  // namespace

std::vector<ZipEntry> parse_zip_directory(std::span<const uint8_t> file, const std::string& path) {
  const Bytes b(file, path);
  if (b.size() < 22) fail(path, ": ", b.size(), " bytes is too short for a zip archive");
  // The end-of-central-directory record: the last signature within 22 + 65535 bytes of the end.
  uint64_t eocd = b.size() - 22;
  const uint64_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  while (b.u(eocd, 4, "end record") != kEocdSig) {
    if (eocd == lowest) fail(path, ": not a zip archive (no end-of-central-directory record)");
    --eocd;
  }
  uint64_t count = b.u(eocd + 10, 2, "end record");
  uint64_t cd_size = b.u(eocd + 12, 4, "end record");
  uint64_t cd_offset = b.u(eocd + 16, 4, "end record");
  if (count == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
    if (eocd < 20 || b.u(eocd - 20, 4, "zip64 locator") != kZip64LocatorSig)
      fail(path, ": zip64 archive without a zip64 end-record locator");
    const uint64_t z = b.u(eocd - 20 + 8, 8, "zip64 locator");
    if (b.u(z, 4, "zip64 end record") != kZip64EocdSig)
      fail(path, ": zip64 end record not found at byte ", z);
    count = b.u(z + 32, 8, "zip64 end record");
    cd_size = b.u(z + 40, 8, "zip64 end record");
    cd_offset = b.u(z + 48, 8, "zip64 end record");
  }
  if (cd_offset > b.size() || cd_size > b.size() - cd_offset)
    fail(path, ": zip central directory [", cd_offset, ", +", cd_size, ") lies outside the file");
  if (count > cd_size / 46) fail(path, ": zip central directory claims ", count, " entries in ", cd_size, " bytes");
  std::vector<ZipEntry> entries;
  uint64_t p = cd_offset;
  for (uint64_t i = 0; i < count; ++i) {
    if (b.u(p, 4, "central directory entry") != kCentralSig)
      fail(path, ": zip central directory entry ", i, " at byte ", p, " has a bad signature");
    ZipEntry e;
    const uint64_t flags = b.u(p + 8, 2, "central directory entry");
    e.method = uint16_t(b.u(p + 10, 2, "central directory entry"));
    e.compressed_size = b.u(p + 20, 4, "central directory entry");
    e.size = b.u(p + 24, 4, "central directory entry");
    const uint64_t name_len = b.u(p + 28, 2, "central directory entry");
    const uint64_t extra_len = b.u(p + 30, 2, "central directory entry");
    const uint64_t comment_len = b.u(p + 32, 2, "central directory entry");
    uint64_t local = b.u(p + 42, 4, "central directory entry");
    const auto name = b.span(p + 46, name_len, "entry name");
    e.name.assign(name.begin(), name.end());
    apply_zip64_extra(b.span(p + 46 + name_len, extra_len, "entry extra field"), e.size,
                      e.compressed_size, local, path, e.name);
    if (flags & 1) fail(path, ": zip entry ", e.name, " is encrypted");
    // The data follows the local header, whose name and extra lengths may differ.
    if (b.u(local, 4, "local header") != kLocalSig)
      fail(path, ": zip entry ", e.name, ": no local header at byte ", local);
    const uint64_t lname = b.u(local + 26, 2, "local header");
    const uint64_t lextra = b.u(local + 28, 2, "local header");
    e.data_offset = local + 30 + lname + lextra;
    if (e.data_offset > b.size() || e.compressed_size > b.size() - e.data_offset)
      fail(path, ": zip entry ", e.name, " (", e.compressed_size, " bytes at byte ", e.data_offset,
           ") lies past the end of the file (", b.size(), " bytes)");
    if (e.method == 0 && e.compressed_size != e.size)
      fail(path, ": stored zip entry ", e.name, " has compressed size ", e.compressed_size,
           " but size ", e.size);
    entries.push_back(std::move(e));
    p += 46 + name_len + extra_len + comment_len;
  }
  return entries;
}

ZipArchive ZipArchive::open(const std::string& path) {
  ZipArchive z;
  z.path_ = path;
  z.map_ = std::make_shared<MappedRegion>(path, 0, size_t(file_size_of(path)));
  z.entries_ = parse_zip_directory(z.map_->bytes(), path);
  return z;
}

const ZipEntry* ZipArchive::find(std::string_view name) const {
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const ZipEntry& e) { return e.name == name; });
  return it == entries_.end() ? nullptr : &*it;
}

std::span<const uint8_t> ZipArchive::stored_bytes(const ZipEntry& e) const {
  if (e.method != 0)
    fail(path_, ": zip entry ", e.name, " is compressed (method ", e.method,
         "); torch.save writes stored entries: re-save the checkpoint with torch.save");
  return map_->bytes().subspan(size_t(e.data_offset), size_t(e.size));
}

}  // namespace llmpipe::hf
