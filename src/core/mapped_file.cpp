#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace llmpipe {

namespace {
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
Fd open_or_fail(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) fail("cannot open ", path, ": ", std::strerror(errno));
  return f;
}
}  // namespace

uint64_t file_size_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail("cannot open ", path, ": ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(path, " is not a regular file");
  return uint64_t(st.st_size);
}

MappedRegion::MappedRegion(const std::string& path, uint64_t offset, size_t length) {
  Fd f = open_or_fail(path);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail("cannot stat ", path, ": ", std::strerror(errno));
  const uint64_t size = uint64_t(st.st_size);
  if (offset > size || length > size - offset)
    fail(path, ": byte range [", offset, ", ", offset + length, ") lies past the end of the file (",
         size, " bytes); the file is truncated or corrupt");
  length_ = length;
  if (length == 0) return;
  const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
  const uint64_t start = offset - offset % page;
  mapped_ = size_t(offset - start) + length;
  base_ = ::mmap(nullptr, mapped_, PROT_READ, MAP_PRIVATE, f.fd, off_t(start));
  if (base_ == MAP_FAILED) {
    base_ = nullptr;
    fail("cannot map ", length, " bytes of ", path, ": ", std::strerror(errno));
  }
  data_ = static_cast<const uint8_t*>(base_) + (offset - start);
}

MappedRegion::MappedRegion(MappedRegion&& o) noexcept { *this = std::move(o); }

MappedRegion& MappedRegion::operator=(MappedRegion&& o) noexcept {
  if (this != &o) {
    if (base_) ::munmap(base_, mapped_);
    base_ = std::exchange(o.base_, nullptr);
    mapped_ = std::exchange(o.mapped_, 0);
    data_ = std::exchange(o.data_, nullptr);
    length_ = std::exchange(o.length_, 0);
  }
  return *this;
}

MappedRegion::~MappedRegion() {
  if (base_) ::munmap(base_, mapped_);
}

}  // namespace llmpipe
