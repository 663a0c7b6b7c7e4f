#include "core/dtype.h"

#include "core/error.h"

namespace llmpipe {

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  int64_t block_size;
  int64_t block_bytes;
  uint32_t ggml_id;
};
constexpr DTypeInfo kInfo[] = {
    {DType::F32, "f32", 1, 4, 0},
    {DType::F16, "f16", 1, 2, 1},
    {DType::BF16, "bf16", 1, 2, 30},
    {DType::Q8_0, "q8_0", kQK, sizeof(BlockQ8_0), 8},
    {DType::Q4_0, "q4_0", kQK, sizeof(BlockQ4_0), 2},
};
const DTypeInfo& info(DType t) { return kInfo[static_cast<int>(t)]; }
}  // namespace

std::string_view dtype_name(DType t) { return info(t).name; }
int64_t dtype_block_size(DType t) { return info(t).block_size; }
int64_t dtype_block_bytes(DType t) { return info(t).block_bytes; }
uint32_t dtype_to_ggml(DType t) { return info(t).ggml_id; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& i : kInfo)
    if (i.name == name) return i.type;
  return std::nullopt;
}

size_t dtype_row_bytes(DType t, int64_t n) {
  const auto& i = info(t);
  if (n < 0 || n % i.block_size != 0)
    fail("a row of ", n, " elements is not a whole number of ", i.name, " blocks of ",
         i.block_size);
  return size_t(n / i.block_size) * size_t(i.block_bytes);
}

std::optional<DType> dtype_from_ggml(uint32_t id) {
  for (const auto& i : kInfo)
    if (i.ggml_id == id) return i.type;
  return std::nullopt;
}

std::string_view ggml_type_name(uint32_t id) {
  // Names from ggml's type table, so that errors about files we cannot read are precise.
  static constexpr std::string_view names[] = {
      "F32",  "F16",  "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0",  "Q5_1",  "Q8_0",
      "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K",  "IQ2_XXS", "IQ2_XS",
      "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32",
      "I64", "F64", "IQ1_M", "BF16"};
  if (id < std::size(names)) return names[id];
  return "unknown";
}

}  // namespace llmpipe
