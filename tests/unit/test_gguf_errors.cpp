// The GGUF reader on bad files: each corruption is an llmpipe::Error whose message says what is
// wrong (and names the key or tensor concerned), never a crash, a huge allocation or a read past
// the end of the file. Files are built byte by byte (gguf_bytes.h) from a small valid file.
#include <gtest/gtest.h>

#include <functional>

#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "gguf_bytes.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

using gguf::Reader;
using test::Bytes;
using test::kGgmlF32;

// Writes `bytes` to a temporary file and expects opening it to fail with all of `parts`.
void expect_open_error(const std::vector<uint8_t>& bytes, std::initializer_list<std::string> parts) {
  test::TempDir dir;
  const auto path = dir.file("bad.gguf");
  test::write_bytes(path, bytes);
  test::expect_error([&] { (void)Reader::open(path); }, parts);
}

// A file with one metadata pair whose value is given as raw bytes (type id + payload).
std::vector<uint8_t> file_with_kv(const std::string& key, const Bytes& type_and_value,
                                  uint64_t n_tensors = 0) {
  Bytes b = test::gguf_header(n_tensors, 1);
  b.str(key).raw(type_and_value.b.data(), type_and_value.size());
  return b.b;
}

// A file with no metadata and the given tensor infos, padded, then `data_bytes` of data.
std::vector<uint8_t> file_with_tensors(
    const std::vector<std::function<void(Bytes&)>>& infos, size_t data_bytes,
    uint32_t alignment = 32) {
  Bytes b = test::gguf_header(infos.size(), 0);
  for (const auto& info : infos) info(b);
  b.pad_to(alignment).zeros(data_bytes);
  return b.b;
}

auto info(std::string name, std::vector<int64_t> dims, uint32_t type = kGgmlF32,
          uint64_t offset = 0) {
  return [=](Bytes& b) { test::tensor_info(b, name, dims, type, offset); };
}

TEST(GgufReaderErrors, MissingFile) {
  test::expect_error([] { (void)Reader::open("/nonexistent/dir/model.gguf"); },
                     {"cannot open /nonexistent/dir/model.gguf"});
  test::TempDir dir;
  test::expect_error([&] { (void)Reader::open(dir.file("")); }, {"is not a regular file"});
}

TEST(GgufReaderErrors, EmptyFile) { expect_open_error({}, {"not a GGUF file", "0 bytes"}); }

TEST(GgufReaderErrors, BadMagic) {
  auto f = test::valid_file();
  f.bytes.b[0] = 'X';
  expect_open_error(f.bytes.b, {"not a GGUF file", "bad magic"});
  // A tiny text file is not a GGUF file either.
  expect_open_error({'h', 'i', '\n'}, {"not a GGUF file"});
}

TEST(GgufReaderErrors, UnsupportedVersions) {
  for (uint32_t v : {0u, 1u, 4u, 0x03000000u}) {  // the last: v3 written big-endian
    auto f = test::valid_file(v);
    expect_open_error(f.bytes.b, {"unsupported GGUF version " + std::to_string(v),
                                  "supported: 2 and 3"});
  }
}

TEST(GgufReaderErrors, TruncatedHeader) {
  auto f = test::valid_file();
  f.bytes.b.resize(12);  // magic, version, half of the tensor count
  expect_open_error(f.bytes.b, {"truncated", "tensor count", "needs 8 bytes", "only 4 remain"});
}

TEST(GgufReaderErrors, TruncatedInsideMetadata) {
  auto f = test::valid_file();
  // Cut inside the value type of "general.name" (key: 8-byte length + 12 bytes).
  f.bytes.b.resize(f.kv_start + 8 + 12 + 2);
  expect_open_error(f.bytes.b, {"truncated", "metadata value type"});
  // Cut inside the string value: its length now exceeds what remains.
  f = test::valid_file();
  f.bytes.b.resize(f.kv_start + 8 + 12 + 4 + 8);
  expect_open_error(f.bytes.b, {"string value", "string length 1", "exceeds the file"});
}

TEST(GgufReaderErrors, TruncatedInsideTensorInfos) {
  auto f = test::valid_file();
  // After the tensor name "t" (8 + 1 bytes): the dimension count is missing.
  f.bytes.b.resize(f.tensor_info_start + 9 + 2);
  expect_open_error(f.bytes.b, {"truncated", "tensor dimension count"});
  f = test::valid_file();
  f.bytes.b.resize(f.tensor_info_start + 9 + 4 + 8 + 4 + 3);  // inside the offset
  expect_open_error(f.bytes.b, {"truncated", "tensor offset"});
}

// Every proper prefix of a valid file is rejected with an Error (no crash, no out-of-bounds
// read: this runs under ASan in scripts/test.sh).
TEST(GgufReaderErrors, EveryTruncationIsAnError) {
  const auto f = test::valid_file();
  test::TempDir dir;
  const auto path = dir.file("cut.gguf");
  for (size_t n = 0; n < f.bytes.size(); ++n) {
    test::write_bytes(path, {f.bytes.b.begin(), f.bytes.b.begin() + std::ptrdiff_t(n)});
    EXPECT_THROW((void)Reader::open(path), Error) << "prefix of " << n << " bytes";
  }
  test::write_bytes(path, f.bytes.b);
  EXPECT_NO_THROW((void)Reader::open(path));
}

TEST(GgufReaderErrors, TensorDataPastEndOfFile) {
  auto f = test::valid_file();
  f.bytes.b.resize(f.bytes.size() - 1);  // the F32 tensor needs 128 bytes, 127 remain
  const auto start = std::to_string(f.data_start);
  expect_open_error(f.bytes.b, {"tensor t", "[" + start + ", " + std::to_string(f.data_start + 128),
                                "past the end of the file", "truncated"});
  // An offset far beyond the file, and one that would overflow offset + bytes.
  expect_open_error(file_with_tensors({info("big", {32}, kGgmlF32, 1ull << 40)}, 128),
                    {"tensor big", "past the end of the file"});
  expect_open_error(file_with_tensors({info("wrap", {32}, kGgmlF32, ~uint64_t(0) - 31)}, 128),
                    {"tensor wrap", "past the end of the file"});
}

TEST(GgufReaderErrors, AbsurdTensorCount) {
  Bytes b = test::gguf_header(uint64_t(1) << 40, 0);
  expect_open_error(b.b, {"absurd tensor count 1099511627776"});
}

TEST(GgufReaderErrors, AbsurdMetadataCount) {
  Bytes b = test::gguf_header(0, ~uint64_t(0));
  expect_open_error(b.b, {"absurd metadata count 18446744073709551615"});
}

TEST(GgufReaderErrors, AbsurdStringLength) {
  // A key whose length claims 2^62 bytes: rejected before any allocation.
  Bytes b = test::gguf_header(0, 1);
  b.u64(uint64_t(1) << 62).raw("abc", 3);
  expect_open_error(b.b, {"metadata key", "string length 4611686018427387904", "exceeds the file"});
}

TEST(GgufReaderErrors, AbsurdArrayLength) {
  Bytes v;
  v.u32(test::kTypeArray).u32(test::kTypeU32).u64(uint64_t(1) << 60).u32(1);
  expect_open_error(file_with_kv("huge.array", v),
                    {"metadata key huge.array", "array length 1152921504606846976", "exceeds"});
  // Each element takes at least its fixed size (8 for a string's length): 5 u32 cannot fit in
  // the 16 bytes that remain, so the count is rejected before anything is allocated.
  Bytes u;
  u.u32(test::kTypeArray).u32(test::kTypeU32).u64(5).u32(1).u32(2).u32(3).u32(4);
  expect_open_error(file_with_kv("four.u32", u),
                    {"metadata key four.u32", "array length 5", "exceeds"});
  // A count that fits the remaining bytes, but the elements run out: truncated.
  Bytes s;
  s.u32(test::kTypeArray).u32(test::kTypeString).u64(3).str("aaaaaaaaaaaa").str("b");
  expect_open_error(file_with_kv("tokenizer.ggml.tokens", s), {"truncated", "string value"});
}

TEST(GgufReaderErrors, AbsurdDimensions) {
  expect_open_error(file_with_tensors({info("zero", {32, 0})}, 0),
                    {"tensor zero", "absurd dimension 0"});
  expect_open_error(file_with_tensors({info("neg", {-32})}, 0),
                    {"tensor neg", "absurd dimension -32"});
  expect_open_error(file_with_tensors({info("wide", {int64_t(1) << 41})}, 0),
                    {"tensor wide", "absurd dimension 2199023255552"});
  // Each dimension plausible, the product absurd (and large enough to overflow int64 if
  // multiplied unchecked: UBSan would flag that).
  const int64_t big = int64_t(1) << 40;
  expect_open_error(file_with_tensors({info("many", {big, big, big, big})}, 0),
                    {"tensor many", "absurd element count"});
}

TEST(GgufReaderErrors, TooManyOrNoDimensions) {
  expect_open_error(file_with_tensors({info("five", {32, 1, 1, 1, 1})}, 128),
                    {"tensor five", "has 5 dimensions", "expected 1 to 4"});
  expect_open_error(file_with_tensors({info("none", {})}, 0),
                    {"tensor none", "has 0 dimensions"});
}

TEST(GgufReaderErrors, UnknownMetadataValueType) {
  Bytes v;
  v.u32(13).u32(0);
  expect_open_error(file_with_kv("weird.key", v), {"metadata key weird.key", "unknown value type 13"});
  Bytes a;
  a.u32(test::kTypeArray).u32(99).u64(1).u32(0);
  expect_open_error(file_with_kv("weird.array", a),
                    {"metadata key weird.array", "unknown array element type 99"});
}

TEST(GgufReaderErrors, BoolOtherThanZeroOrOne) {
  Bytes v;
  v.u32(test::kTypeBool).u8(2);
  expect_open_error(file_with_kv("flag", v), {"metadata key flag", "bool value 2"});
}

TEST(GgufReaderErrors, ArraysNestedTooDeeply) {
  Bytes v;
  v.u32(test::kTypeArray);
  for (int i = 0; i < 8; ++i) v.u32(test::kTypeArray).u64(1);
  v.u32(test::kTypeU8).u64(0);
  expect_open_error(file_with_kv("deep", v), {"metadata key deep", "nested too deeply"});
}

TEST(GgufReaderErrors, DuplicateMetadataKey) {
  Bytes b = test::gguf_header(0, 2);
  b.str("general.name").u32(test::kTypeString).str("a");
  b.str("general.name").u32(test::kTypeString).str("b");
  expect_open_error(b.b, {"duplicate metadata key general.name"});
}

TEST(GgufReaderErrors, UnsupportedTensorTypeIsNamed) {
  // IQ2_XXS (ggml type 16) is a real GGUF type this engine does not implement.
  expect_open_error(file_with_tensors({info("blk.0.attn_q.weight", {256}, 16)}, 66),
                    {"unsupported tensor type IQ2_XXS", "ggml type 16",
                     "for tensor blk.0.attn_q.weight",
                     "supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, "
                     "Q5_K, Q6_K, IQ4_NL, IQ4_XS"});
  expect_open_error(file_with_tensors({info("odd", {32}, 1000)}, 128),
                    {"unsupported tensor type unknown", "ggml type 1000", "for tensor odd"});
}

TEST(GgufReaderErrors, RowNotWholeBlocks) {
  expect_open_error(file_with_tensors({info("q", {48, 2}, test::kGgmlQ8_0)}, 128),
                    {"tensor q", "q8_0", "row of 48 elements", "block size 32"});
  // K-quants: rows must be whole 256-element super-blocks (3200-wide rows are not).
  expect_open_error(file_with_tensors({info("blk.0.ffn_down.weight", {3200, 1}, test::kGgmlQ4_K)}, 1800),
                    {"tensor blk.0.ffn_down.weight", "q4_k", "row of 3200 elements", "block size 256"});
}

TEST(GgufReaderErrors, UnalignedTensorOffset) {
  expect_open_error(file_with_tensors({info("a", {8}), info("b", {8}, kGgmlF32, 40)}, 128),
                    {"tensor b", "data offset 40", "not aligned to 32"});
}

TEST(GgufReaderErrors, DuplicateTensorName) {
  expect_open_error(file_with_tensors({info("w", {8}), info("w", {8}, kGgmlF32, 32)}, 64),
                    {"duplicate tensor w"});
}

TEST(GgufReaderErrors, AlignmentNotAPowerOfTwo) {
  for (uint32_t a : {0u, 3u, 24u, 48u}) {
    Bytes v;
    v.u32(test::kTypeU32).u32(a);
    expect_open_error(file_with_kv("general.alignment", v),
                      {"general.alignment = " + std::to_string(a), "not a power of two"});
  }
  Bytes huge;
  huge.u32(test::kTypeU64).u64(uint64_t(1) << 40);  // a power of two, but absurd
  expect_open_error(file_with_kv("general.alignment", huge),
                    {"general.alignment = 1099511627776", "absurdly large"});
  Bytes str;
  str.u32(test::kTypeString).str("32");
  expect_open_error(file_with_kv("general.alignment", str),
                    {"general.alignment", "should be an integer", "string"});
}

TEST(GgufReaderErrors, MetadataKeyWithWrongTypeRequested) {
  test::TempDir dir;
  const auto path = dir.file("kv.gguf");
  gguf::Writer w;
  w.set_string("general.name", "model");
  w.set_u32("llama.block_count", 2);
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_string_array("tokens", {"a"});
  w.write_all(path, {});
  const auto r = Reader::open(path);
  test::expect_error([&] { (void)r.get_int("general.name"); },
                     {path, "metadata key general.name", "should be an integer", "is string"});
  test::expect_error([&] { (void)r.get_int("llama.rope.freq_base"); },
                     {"llama.rope.freq_base", "should be an integer", "is f32"});
  test::expect_error([&] { (void)r.get_string("llama.block_count"); },
                     {"llama.block_count", "should be a string", "is u32"});
  test::expect_error([&] { (void)r.get_bool("llama.block_count"); },
                     {"llama.block_count", "should be a bool"});
  test::expect_error([&] { (void)r.get_float("tokens"); }, {"tokens", "should be a number", "array"});
  test::expect_error([&] { (void)r.get_array("general.name"); },
                     {"general.name", "should be an array", "string"});
}

}  // namespace
}  // namespace llmpipe
