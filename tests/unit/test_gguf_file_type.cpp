// general.file_type (llama.cpp's llama_ftype) against the tensor types a file holds: names, the
// per-type mix `llmpipe info` prints, and the warning when the label names a type no matrix has.
#include <gtest/gtest.h>

#include "formats/gguf_file_type.h"
#include "formats/gguf_writer.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

using namespace gguf;

struct T {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};
// Writes a file with the given tensors (zero bytes) and, if >= 0, general.file_type.
Reader write_file(const test::TempDir& dir, const std::vector<T>& tensors, int64_t file_type) {
  Writer w;
  if (file_type >= 0) w.set_u32("general.file_type", uint32_t(file_type));
  std::vector<std::vector<uint8_t>> data;
  for (const auto& t : tensors) {
    w.add_tensor(t.name, t.dtype, t.shape);
    int64_t rows = 1;
    for (size_t i = 1; i < t.shape.size(); ++i) rows *= t.shape[i];
    data.emplace_back(dtype_row_bytes(t.dtype, t.shape[0]) * size_t(rows));
  }
  const auto path = dir.file("m.gguf");
  w.write_all(path, {data.begin(), data.end()});
  return Reader::open(path);
}

// A llama.cpp-style Q4_K_M mix: q4_k and q6_k matrices, f32 norms.
const std::vector<T> kQ4KM = {
    {"token_embd.weight", DType::Q4_K, {256, 512}},    // 512 blocks x 144 = 73728 bytes
    {"blk.0.attn_q.weight", DType::Q4_K, {256, 256}},  // 36864
    {"blk.0.attn_v.weight", DType::Q6_K, {256, 256}},  // 256 x 210 = 53760
    {"blk.0.attn_norm.weight", DType::F32, {256}},     // 1024
    {"output_norm.weight", DType::F32, {256}},         // 1024
};

TEST(GgufFileType, NamesFollowLlamaH) {
  EXPECT_EQ(file_type_name(0), "ALL_F32");
  EXPECT_EQ(file_type_name(7), "MOSTLY_Q8_0");
  EXPECT_EQ(file_type_name(15), "MOSTLY_Q4_K_M");
  EXPECT_EQ(file_type_name(30), "MOSTLY_IQ4_XS");
  EXPECT_EQ(file_type_name(32), "MOSTLY_BF16");
  EXPECT_EQ(file_type_name(5), std::nullopt);  // Q4_2: removed from llama.cpp
  EXPECT_EQ(file_type_name(99), std::nullopt);
  EXPECT_EQ(file_type_matrix_dtype(12), DType::Q3_K);
  EXPECT_EQ(file_type_matrix_dtype(25), DType::IQ4_NL);
  EXPECT_EQ(file_type_matrix_dtype(19), std::nullopt);  // IQ2_XXS: not readable here
}

TEST(GgufFileType, MixCountsTensorsAndBytesPerTypeMostBytesFirst) {
  test::TempDir dir;
  const auto r = write_file(dir, kQ4KM, 15);
  const auto mix = tensor_mix(r.tensors());
  ASSERT_EQ(mix.size(), 3u);
  EXPECT_EQ(mix[0].dtype, DType::Q4_K);
  EXPECT_EQ(mix[0].tensors, 2u);
  EXPECT_EQ(mix[0].bytes, 73728u + 36864u);
  EXPECT_EQ(mix[1].dtype, DType::Q6_K);
  EXPECT_EQ(mix[1].bytes, 53760u);
  EXPECT_EQ(mix[2].dtype, DType::F32);
  EXPECT_EQ(mix[2].tensors, 2u);
  EXPECT_EQ(format_mix(mix), "2 q4_k (108.00 KiB), 1 q6_k (52.50 KiB), 2 f32 (2.00 KiB)");
  EXPECT_EQ(file_type_mismatch(r), std::nullopt);
}

TEST(GgufFileType, LabelNamingATypeNoMatrixHasIsAWarning) {
  test::TempDir dir;
  // Declared Q5_K_M (17), holds q4_k and q6_k: the warning says what was promised and found.
  const auto w = file_type_mismatch(write_file(dir, kQ4KM, 17));
  ASSERT_TRUE(w.has_value());
  for (const char* part : {"general.file_type = 17 (MOSTLY_Q5_K_M)", "promises q5_k matrices",
                           "none of the 3 matrices is q5_k", "2 q4_k (108.00 KiB), 1 q6_k"})
    EXPECT_NE(w->find(part), std::string::npos) << *w << " lacks " << part;
  // ALL_F32 over quantized matrices (f32 norms do not count: they are not matrices).
  const auto f32 = file_type_mismatch(write_file(dir, kQ4KM, 0));
  ASSERT_TRUE(f32.has_value());
  EXPECT_NE(f32->find("(ALL_F32) promises f32 matrices"), std::string::npos) << *f32;
  // An id llama.cpp does not define.
  const auto odd = file_type_mismatch(write_file(dir, kQ4KM, 99));
  ASSERT_TRUE(odd.has_value());
  EXPECT_NE(odd->find("= 99 is not a llama_ftype"), std::string::npos) << *odd;
  // No label, or a label for a type this engine does not read: nothing to check.
  EXPECT_EQ(file_type_mismatch(write_file(dir, kQ4KM, -1)), std::nullopt);
  EXPECT_EQ(file_type_mismatch(write_file(dir, kQ4KM, 19)), std::nullopt);
  // One matrix of the declared type is enough (llama.cpp's mixes keep some tensors higher).
  EXPECT_EQ(file_type_mismatch(write_file(dir, kQ4KM, 18)), std::nullopt);  // Q6_K
}

}  // namespace
}  // namespace llmpipe
