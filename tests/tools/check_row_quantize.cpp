// Reads gguf_py_quantize.py's file and checks that cpu::quantize_row writes gguf-py's blocks
// byte for byte. Exit 0: all equal; 1: a mismatch (the first few blocks printed).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/cpu/quantize.h"

namespace {

struct Tally {
  int rows = 0, bad_rows = 0;
  int64_t blocks = 0;
};

// Number of blocks that differ between ours and theirs (printing the first few).
int64_t compare_blocks(llmpipe::DType type, const std::vector<uint8_t>& ours,
                       const std::vector<uint8_t>& theirs, int row, int& printed) {
  const auto bb = size_t(llmpipe::dtype_block_bytes(type));
  int64_t bad = 0;
  for (size_t b = 0; b * bb < ours.size(); ++b) {
    if (std::memcmp(&ours[b * bb], &theirs[b * bb], bb) == 0) continue;
    if (printed++ < 5) {
      std::printf("%s row %d block %zu differs:\n  ours   ", std::string(dtype_name(type)).c_str(),
                  row, b);
      for (size_t k = 0; k < bb; ++k) std::printf("%02x", ours[b * bb + k]);
      std::printf("\n  gguf-py ");
      for (size_t k = 0; k < bb; ++k) std::printf("%02x", theirs[b * bb + k]);
      std::printf("\n");
    }
    ++bad;
  }
  return bad;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace llmpipe;
  if (argc != 2) {
    std::cerr << "usage: check_row_quantize FILE\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::map<std::string, Tally> tally;
  int printed = 0, row = 0;
  uint32_t header[2];
  while (in.read(reinterpret_cast<char*>(header), sizeof header)) {
    const auto type = dtype_from_ggml(header[0]);
    if (!type) {
      std::cerr << "unknown ggml type " << header[0] << "\n";
      return 1;
    }
    const int64_t n = header[1];
    std::vector<float> x(static_cast<size_t>(n));
    std::vector<uint8_t> theirs(dtype_row_bytes(*type, n)), ours(theirs.size());
    in.read(reinterpret_cast<char*>(x.data()), std::streamsize(n * 4));
    in.read(reinterpret_cast<char*>(theirs.data()), std::streamsize(theirs.size()));
    if (!in) {
      std::cerr << "truncated fixture at " << dtype_name(*type) << "\n";
      return 1;
    }
    cpu::quantize_row(*type, x.data(), ours.data(), n);
    auto& t = tally[std::string(dtype_name(*type))];
    const int64_t bad = compare_blocks(*type, ours, theirs, row++, printed);
    t.rows += 1;
    t.bad_rows += bad != 0;
    t.blocks += int64_t(ours.size()) / dtype_block_bytes(*type);
  }
  if (tally.empty()) {
    std::cerr << "no rows read from " << argv[1] << "\n";
    return 1;
  }
  int failures = 0;
  for (const auto& [name, t] : tally) {
    std::printf("%-5s %3d rows, %6lld blocks: %s\n", name.c_str(), t.rows,
                static_cast<long long>(t.blocks), t.bad_rows ? "MISMATCH" : "byte-identical");
    failures += t.bad_rows;
  }
  return failures ? 1 : 0;
}
