// Reads gguf_py_blocks.py's file and checks that our decode of each type's blocks equals
// gguf-py's values bit for bit. Exit 0: all equal; 1: a mismatch (the first few printed).
#include <bit>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "core/dtype.h"
#include "kernels/cpu/quantize.h"

int main(int argc, char** argv) {
  using namespace llmpipe;
  if (argc != 2) {
    std::cerr << "usage: check_block_decode FILE\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  int types = 0, failures = 0;
  uint32_t header[2];
  while (in.read(reinterpret_cast<char*>(header), sizeof header)) {
    const auto type = dtype_from_ggml(header[0]);
    if (!type) {
      std::cerr << "unknown ggml type " << header[0] << " (" << ggml_type_name(header[0]) << ")\n";
      return 1;
    }
    const int64_t n = header[1];
    std::vector<uint8_t> raw(dtype_row_bytes(*type, n));
    std::vector<float> expected(static_cast<size_t>(n)), got(static_cast<size_t>(n));
    in.read(reinterpret_cast<char*>(raw.data()), std::streamsize(raw.size()));
    in.read(reinterpret_cast<char*>(expected.data()), std::streamsize(n * 4));
    if (!in) {
      std::cerr << "truncated fixture at " << dtype_name(*type) << "\n";
      return 1;
    }
    cpu::dequantize_row_f32(*type, raw.data(), got.data(), n);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i)
      if (std::bit_cast<uint32_t>(got[size_t(i)]) != std::bit_cast<uint32_t>(expected[size_t(i)])) {
        if (bad++ < 5)
          std::printf("%s element %lld: ours %.9g, gguf-py %.9g\n", std::string(dtype_name(*type)).c_str(),
                      static_cast<long long>(i), double(got[size_t(i)]), double(expected[size_t(i)]));
      }
    std::printf("%-7s %8lld values: %s\n", std::string(dtype_name(*type)).c_str(),
                static_cast<long long>(n), bad ? "MISMATCH" : "bit-identical");
    failures += bad != 0;
    ++types;
  }
  if (types == 0) {
    std::cerr << "no blocks read from " << argv[1] << "\n";
    return 1;
  }
  return failures ? 1 : 0;
}
