// Decodes every tensor of a GGUF file as llmpipe does (gguf::Reader, then
// cpu::dequantize_row_f32 row by row) and compares with gguf_py_dequant.py's values bit for bit.
// Prints one line per tensor (name, type, values, result) and a per-type summary.
// Exit 0: every value of every tensor equal; 1: a mismatch or a tensor missing on either side.
#include <bit>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/gguf_reader.h"
#include "kernels/cpu/quantize.h"

int main(int argc, char** argv) {
  using namespace llmpipe;
  if (argc != 3) {
    std::cerr << "usage: check_gguf_decode FILE.gguf GGUF_PY_VALUES\n";
    return 2;
  }
  const auto file = gguf::Reader::open(argv[1]);
  std::ifstream in(argv[2], std::ios::binary);
  std::set<std::string> seen;
  std::map<std::string, std::pair<int, int>> per_type;  // type -> (tensors, mismatched)
  int failures = 0;
  uint32_t name_len = 0;
  while (in.read(reinterpret_cast<char*>(&name_len), sizeof name_len)) {
    std::string name(name_len, '\0');
    uint64_t n = 0;
    in.read(name.data(), name_len).read(reinterpret_cast<char*>(&n), sizeof n);
    std::vector<float> expected(n);
    in.read(reinterpret_cast<char*>(expected.data()), std::streamsize(n * 4));
    if (!in) {
      std::cerr << "truncated reference file at tensor " << name << "\n";
      return 1;
    }
    seen.insert(name);
    const auto* t = file.find_tensor(name);
    if (!t || uint64_t(t->n_elements()) != n) {
      std::printf("%s: %s\n", name.c_str(),
                  t ? "element count differs" : "missing in llmpipe's reader");
      ++failures;
      continue;
    }
    const auto region = file.map_tensor(*t);
    const size_t row_bytes = dtype_row_bytes(t->dtype, t->cols());
    std::vector<float> row(size_t(t->cols()));
    int64_t bad = 0;
    for (int64_t r = 0; r < t->rows(); ++r) {
      cpu::dequantize_row_f32(t->dtype, region.data() + size_t(r) * row_bytes, row.data(),
                              t->cols());
      for (int64_t c = 0; c < t->cols(); ++c) {
        const float want = expected[size_t(r * t->cols() + c)];
        if (std::bit_cast<uint32_t>(row[size_t(c)]) != std::bit_cast<uint32_t>(want) && bad++ < 3)
          std::printf("  %s row %lld col %lld: llmpipe %.9g, gguf-py %.9g\n", name.c_str(),
                      static_cast<long long>(r), static_cast<long long>(c), double(row[size_t(c)]),
                      double(want));
      }
    }
    const std::string type(dtype_name(t->dtype));
    std::printf("%-28s %-7s %9llu values: %s\n", name.c_str(), type.c_str(),
                static_cast<unsigned long long>(n), bad ? "MISMATCH" : "bit-identical");
    auto& share = per_type[type];
    ++share.first;
    share.second += bad != 0;
    failures += bad != 0;
  }
  for (const auto& t : file.tensors())
    if (!seen.count(t.name)) {
      std::printf("%s: not in the reference file\n", t.name.c_str());
      ++failures;
    }
  for (const auto& [type, share] : per_type)
    std::printf("type %-7s %3d tensors, %d mismatched\n", type.c_str(), share.first, share.second);
  if (seen.empty()) {
    std::cerr << "no tensors read from " << argv[2] << "\n";
    return 1;
  }
  return failures ? 1 : 0;
}
