// libFuzzer: a whole GGUF file (header, metadata, tensor infos, data) through gguf::Reader::open,
// which reads a path, so each input is written to a per-process temporary file first. Beyond
// "no crash, no sanitizer report", a file the reader accepts must satisfy what its checks
// promise, for every block type: each tensor's size is whole blocks of its type, its data lies
// inside the file and after the header, aligned, and no two tensors' data overlap.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/gguf_file_type.h"
#include "formats/gguf_reader.h"

namespace {

// The input's file, removed when the fuzzer exits.
struct TempFile {
  std::string path = "/tmp/fuzz_gguf." + std::to_string(::getpid()) + ".gguf";
  ~TempFile() { std::remove(path.c_str()); }
};
const std::string& temp_path() {
  static const TempFile f;
  return f.path;
}

void check_accepted(const llmpipe::gguf::Reader& r) {
  using llmpipe::gguf::TensorInfo;
  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : r.tensors()) {
    const int64_t block = llmpipe::dtype_block_size(t.dtype);
    if (t.cols() % block != 0) __builtin_trap();
    const uint64_t expect = uint64_t(t.cols() / block) *
                            uint64_t(llmpipe::dtype_block_bytes(t.dtype)) * uint64_t(t.rows());
    if (t.bytes != expect) __builtin_trap();
    if (t.offset < r.data_offset() || t.offset % r.alignment() != 0) __builtin_trap();
    if (t.offset > r.file_size() || t.bytes > r.file_size() - t.offset) __builtin_trap();
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->offset + by_offset[i - 1]->bytes > by_offset[i]->offset) __builtin_trap();
  // What `llmpipe info` computes from an accepted file must not fail either (bar a mistyped
  // general.file_type, which is an Error).
  (void)llmpipe::gguf::format_mix(llmpipe::gguf::tensor_mix(r.tensors()));
  (void)llmpipe::gguf::file_type_mismatch(r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FILE* f = std::fopen(temp_path().c_str(), "wb");
  if (!f) return 0;
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    check_accepted(llmpipe::gguf::Reader::open(temp_path()));
  } catch (const llmpipe::Error&) {
  }
  return 0;
}
