// A file written under a temporary name (path + ".part") and renamed into place by commit(), so
// an interrupted or failed write never leaves a truncated model at `path` (RAII: the partial
// file is removed unless committed).
#pragma once

#include <string>

namespace llmpipe {

class OutputFile {
 public:
  explicit OutputFile(std::string path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& temp_path() const { return temp_; }
  void commit();  // renames the temporary file to the final path

 private:
  std::string path_, temp_;
  bool committed_ = false;
};

// Fails if `a` and `b` name the same existing file (writing one would destroy the other).
void check_distinct_files(const std::string& in, const std::string& out);

}  // namespace llmpipe
