#include "convert/output_file.h"

#include <filesystem>

#include "core/error.h"

namespace llmpipe {

namespace fs = std::filesystem;

OutputFile::OutputFile(std::string path) : path_(std::move(path)), temp_(path_ + ".part") {
  if (path_.empty()) fail("no output file given");
  const fs::path parent = fs::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec))
    fail("cannot write ", path_, ": directory ", parent.string(), " does not exist");
}

OutputFile::~OutputFile() {
  if (committed_) return;
  std::error_code ec;
  fs::remove(temp_, ec);
}

void OutputFile::commit() {
  std::error_code ec;
  fs::rename(temp_, path_, ec);
  if (ec) fail("cannot rename ", temp_, " to ", path_, ": ", ec.message());
  committed_ = true;
}

void check_distinct_files(const std::string& in, const std::string& out) {
  std::error_code ec;
  if (fs::exists(out, ec) && fs::equivalent(in, out, ec))
    fail("input and output are the same file (", in, "): choose another output path");
}

}  // namespace llmpipe
