#include "formats/gguf_file_type.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"

namespace llmpipe::gguf {

namespace {

struct FileTypeInfo {
  int64_t id;
  std::string_view name;
  std::optional<DType> matrices;  // the type most matrices have; nullopt: not readable here
};

// llama_ftype as defined in llama.cpp's include/llama.h (checked at commit c392e50). Ids 4-6
// and 33-35 are commented out there (removed formats) and are not listed.
constexpr FileTypeInfo kFileTypes[] = {
    {0, "ALL_F32", DType::F32},
    {1, "MOSTLY_F16", DType::F16},
    {2, "MOSTLY_Q4_0", DType::Q4_0},
    {3, "MOSTLY_Q4_1", DType::Q4_1},
    {7, "MOSTLY_Q8_0", DType::Q8_0},
    {8, "MOSTLY_Q5_0", DType::Q5_0},
    {9, "MOSTLY_Q5_1", DType::Q5_1},
    {10, "MOSTLY_Q2_K", DType::Q2_K},
    {11, "MOSTLY_Q3_K_S", DType::Q3_K},
    {12, "MOSTLY_Q3_K_M", DType::Q3_K},
    {13, "MOSTLY_Q3_K_L", DType::Q3_K},
    {14, "MOSTLY_Q4_K_S", DType::Q4_K},
    {15, "MOSTLY_Q4_K_M", DType::Q4_K},
    {16, "MOSTLY_Q5_K_S", DType::Q5_K},
    {17, "MOSTLY_Q5_K_M", DType::Q5_K},
    {18, "MOSTLY_Q6_K", DType::Q6_K},
    {19, "MOSTLY_IQ2_XXS", {}},
    {20, "MOSTLY_IQ2_XS", {}},
    {21, "MOSTLY_Q2_K_S", DType::Q2_K},
    {22, "MOSTLY_IQ3_XS", {}},
    {23, "MOSTLY_IQ3_XXS", {}},
    {24, "MOSTLY_IQ1_S", {}},
    {25, "MOSTLY_IQ4_NL", DType::IQ4_NL},
    {26, "MOSTLY_IQ3_S", {}},
    {27, "MOSTLY_IQ3_M", {}},
    {28, "MOSTLY_IQ2_S", {}},
    {29, "MOSTLY_IQ2_M", {}},
    {30, "MOSTLY_IQ4_XS", DType::IQ4_XS},
    {31, "MOSTLY_IQ1_M", {}},
    {32, "MOSTLY_BF16", DType::BF16},
    {36, "MOSTLY_TQ1_0", {}},
    {37, "MOSTLY_TQ2_0", {}},
    {1024, "GUESSED", {}},
};

const FileTypeInfo* find_file_type(int64_t id) {
  for (const auto& f : kFileTypes)
    if (f.id == id) return &f;
  return nullptr;
}

}  // namespace

std::optional<std::string_view> file_type_name(int64_t id) {
  const auto* f = find_file_type(id);
  return f ? std::optional(f->name) : std::nullopt;
}

std::optional<DType> file_type_matrix_dtype(int64_t id) {
  const auto* f = find_file_type(id);
  return f ? f->matrices : std::nullopt;
}

std::vector<TypeShare> tensor_mix(std::span<const TensorInfo> tensors) {
  std::vector<TypeShare> mix;
  for (const auto& t : tensors) {
    auto it = std::find_if(mix.begin(), mix.end(),
                           [&](const TypeShare& s) { return s.dtype == t.dtype; });
    if (it == mix.end()) it = mix.insert(mix.end(), TypeShare{t.dtype});
    ++it->tensors;
    it->bytes += t.bytes;
  }
  std::sort(mix.begin(), mix.end(), [](const TypeShare& a, const TypeShare& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.dtype < b.dtype;
  });
  return mix;
}

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", v, units[u]);
  return buf;
}

std::string format_mix(const std::vector<TypeShare>& mix) {
  std::string s;
  for (const auto& m : mix)
    s += cat(s.empty() ? "" : ", ", m.tensors, " ", dtype_name(m.dtype), " (", human_bytes(m.bytes),
             ")");
  return s;
}

std::optional<std::string> file_type_mismatch(const Reader& file) {
  const auto id = file.get_int("general.file_type");
  if (!id) return std::nullopt;
  const auto* f = find_file_type(*id);
  if (!f) return cat("general.file_type = ", *id, " is not a llama_ftype llama.cpp defines");
  if (!f->matrices) return std::nullopt;
  std::vector<TensorInfo> matrices;
  for (const auto& t : file.tensors()) {
    if (t.shape.size() < 2) continue;
    if (t.dtype == *f->matrices) return std::nullopt;
    matrices.push_back(t);
  }
  if (matrices.empty()) return std::nullopt;  // a vocabulary-only file, say: nothing to contradict
  return cat("general.file_type = ", *id, " (", f->name, ") promises ", dtype_name(*f->matrices),
             " matrices, but none of the ", matrices.size(), " matrices is ",
             dtype_name(*f->matrices), " (they are ", format_mix(tensor_mix(matrices)),
             "); the label is wrong: the tensors' own types are what is read");
}

}  // namespace llmpipe::gguf
