#include "core/dtype.h"

#include "core/error.h"
#include "core/quant_blocks.h"

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
    {DType::Q4_1, "q4_1", kQK, sizeof(BlockQ4_1), 3},
    {DType::Q5_0, "q5_0", kQK, sizeof(BlockQ5_0), 6},
    {DType::Q5_1, "q5_1", kQK, sizeof(BlockQ5_1), 7},
    {DType::Q2_K, "q2_k", kQK_K, sizeof(BlockQ2_K), 10},
    {DType::Q3_K, "q3_k", kQK_K, sizeof(BlockQ3_K), 11},
    {DType::Q4_K, "q4_k", kQK_K, sizeof(BlockQ4_K), 12},
    {DType::Q5_K, "q5_k", kQK_K, sizeof(BlockQ5_K), 13},
    {DType::Q6_K, "q6_k", kQK_K, sizeof(BlockQ6_K), 14},
    {DType::IQ4_NL, "iq4_nl", kQK, sizeof(BlockIQ4_NL), 20},
    {DType::IQ4_XS, "iq4_xs", kQK_K, sizeof(BlockIQ4_XS), 23},
};
static_assert(std::size(kInfo) == kDTypeCount);
constexpr bool table_in_enum_order() {
  for (int i = 0; i < kDTypeCount; ++i)
    if (static_cast<int>(kInfo[i].type) != i) return false;
  return true;
}
static_assert(table_in_enum_order(), "kInfo must list the types in DType's order");
const DTypeInfo& info(DType t) { return kInfo[static_cast<int>(t)]; }
}  // namespace

std::string_view dtype_name(DType t) { return info(t).name; }
int64_t dtype_block_size(DType t) { return info(t).block_size; }
int64_t dtype_block_bytes(DType t) { return info(t).block_bytes; }
uint32_t dtype_to_ggml(DType t) { return info(t).ggml_id; }
bool dtype_is_quantized(DType t) { return info(t).block_size > 1; }

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

std::string supported_ggml_type_names() {
  std::string s;
  for (const auto& i : kInfo) s += (s.empty() ? "" : ", ") + std::string(ggml_type_name(i.ggml_id));
  return s;
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
