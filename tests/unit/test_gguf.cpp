// GGUF writer -> reader round trips: every metadata value type, every supported tensor dtype
// with its bytes and alignment (default and custom `general.alignment`), and a version-2 file
// built byte by byte (v2 and v3 share the layout for little-endian files). Bad files are in
// test_gguf_errors.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "gguf_bytes.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

using gguf::Array;
using gguf::Reader;
using gguf::Value;
using gguf::ValueType;
using gguf::Writer;

template <typename T>
Value array_of(ValueType type, std::initializer_list<T> items) {
  Array a{type, {}};
  for (const T& x : items) a.items.push_back(Value{x});
  return Value{std::move(a)};
}

// Deep equality of values including the stored type (and NaN-free floats compared exactly).
void expect_same(const Value& got, const Value& want, const std::string& key) {
  ASSERT_EQ(got.type(), want.type()) << key;
  if (want.type() == ValueType::Array) {
    const auto& g = std::get<Array>(got.v);
    const auto& w = std::get<Array>(want.v);
    ASSERT_EQ(g.type, w.type) << key;
    ASSERT_EQ(g.items.size(), w.items.size()) << key;
    for (size_t i = 0; i < w.items.size(); ++i)
      expect_same(g.items[i], w.items[i], key + "[" + std::to_string(i) + "]");
  } else {
    std::visit(
        [&](const auto& w) {
          using T = std::decay_t<decltype(w)>;
          if constexpr (!std::is_same_v<T, Array>) {
            EXPECT_TRUE(std::get<T>(got.v) == w)
                << key << ": got " << got.to_string() << ", want " << want.to_string();
          }
        },
        want.v);
  }
}

std::vector<gguf::KeyValue> every_value_type() {
  return {
      {"t.u8", Value{uint8_t(255)}},
      {"t.i8", Value{int8_t(-128)}},
      {"t.u16", Value{uint16_t(65535)}},
      {"t.i16", Value{int16_t(-32768)}},
      {"t.u32", Value{uint32_t(4000000000u)}},
      {"t.i32", Value{int32_t(-2000000000)}},
      {"t.u64", Value{uint64_t(18000000000000000000ull)}},
      {"t.i64", Value{int64_t(-9000000000000000000ll)}},
      {"t.f32", Value{-1.5e-30f}},
      {"t.f64", Value{3.141592653589793}},
      {"t.bool_true", Value{true}},
      {"t.bool_false", Value{false}},
      {"t.string", Value{std::string("héllo\nwörld")}},
      {"t.string_empty", Value{std::string()}},
      {"t.string_nul", Value{std::string("a\0b", 3)}},  // length-prefixed: NUL is data
      {"t.arr_u8", array_of<uint8_t>(ValueType::U8, {0, 1, 255})},
      {"t.arr_i8", array_of<int8_t>(ValueType::I8, {-128, 0, 127})},
      {"t.arr_u16", array_of<uint16_t>(ValueType::U16, {1, 65535})},
      {"t.arr_i16", array_of<int16_t>(ValueType::I16, {-32768, 32767})},
      {"t.arr_u32", array_of<uint32_t>(ValueType::U32, {7, 4294967295u})},
      {"t.arr_i32", array_of<int32_t>(ValueType::I32, {-1, 2147483647})},
      {"t.arr_u64", array_of<uint64_t>(ValueType::U64, {0, 18446744073709551615ull})},
      {"t.arr_i64", array_of<int64_t>(ValueType::I64, {std::numeric_limits<int64_t>::min(), 5})},
      {"t.arr_f32", array_of<float>(ValueType::F32, {0.0f, -0.0f, 1e38f, -1.25f})},
      {"t.arr_f64", array_of<double>(ValueType::F64, {1e-300, -2.5})},
      {"t.arr_bool", array_of<bool>(ValueType::Bool, {true, false, true})},
      {"t.arr_string", array_of<std::string>(ValueType::String, {"<s>", "", "▁the"})},
      {"t.arr_empty", Value{Array{ValueType::I32, {}}}},
      // Arrays of arrays are legal GGUF (nested up to the reader's depth limit).
      {"t.arr_nested", Value{Array{ValueType::Array,
                                   {array_of<int32_t>(ValueType::I32, {1, 2}),
                                    array_of<int32_t>(ValueType::I32, {3})}}}},
  };
}

TEST(GgufRoundTrip, EveryMetadataValueTypeKeepsTypeAndValue) {
  test::TempDir dir;
  const auto path = dir.file("kv.gguf");
  const auto kvs = every_value_type();
  Writer w;
  for (const auto& kv : kvs) w.set(kv.key, kv.value);
  w.write_all(path, {});

  const auto r = Reader::open(path);
  EXPECT_EQ(r.version(), 3u);
  EXPECT_TRUE(r.tensors().empty());
  ASSERT_EQ(r.metadata().size(), kvs.size());
  for (size_t i = 0; i < kvs.size(); ++i) {
    EXPECT_EQ(r.metadata()[i].key, kvs[i].key) << "metadata keeps the written order";
    ASSERT_NE(r.find(kvs[i].key), nullptr) << kvs[i].key;
    expect_same(*r.find(kvs[i].key), kvs[i].value, kvs[i].key);
  }
}

TEST(GgufRoundTrip, TypedGettersConvertCompatibleTypes) {
  test::TempDir dir;
  const auto path = dir.file("kv.gguf");
  Writer w;
  for (const auto& kv : every_value_type()) w.set(kv.key, kv.value);
  w.write_all(path, {});
  const auto r = Reader::open(path);

  // Every integer type widens to int64; floats and integers to double.
  EXPECT_EQ(r.get_int("t.u8"), 255);
  EXPECT_EQ(r.get_int("t.i8"), -128);
  EXPECT_EQ(r.get_int("t.u16"), 65535);
  EXPECT_EQ(r.get_int("t.i16"), -32768);
  EXPECT_EQ(r.get_int("t.u32"), 4000000000ll);
  EXPECT_EQ(r.get_int("t.i32"), -2000000000);
  EXPECT_EQ(r.get_int("t.i64"), -9000000000000000000ll);
  EXPECT_EQ(r.get_float("t.f32"), double(-1.5e-30f));
  EXPECT_EQ(r.get_float("t.f64"), 3.141592653589793);
  EXPECT_EQ(r.get_float("t.i32"), -2e9);
  EXPECT_EQ(r.get_float("t.u64"), 1.8e19);  // as a double, a u64 above INT64_MAX is fine
  EXPECT_EQ(r.get_bool("t.bool_true"), true);
  EXPECT_EQ(r.get_bool("t.bool_false"), false);
  EXPECT_EQ(r.get_string("t.string"), "héllo\nwörld");
  EXPECT_EQ(r.get_string("t.string_nul"), std::string("a\0b", 3));
  ASSERT_NE(r.get_array("t.arr_string"), nullptr);
  EXPECT_EQ(r.get_array("t.arr_string")->items.size(), 3u);
  // Absent keys are nullopt / nullptr, not errors.
  EXPECT_FALSE(r.get_int("absent").has_value());
  EXPECT_FALSE(r.get_string("absent").has_value());
  EXPECT_EQ(r.get_array("absent"), nullptr);
  // A u64 above INT64_MAX cannot be returned as int64: an error, not a wrapped value.
  test::expect_error([&] { (void)r.get_int("t.u64"); }, {"metadata key t.u64", "18000000000000000000", "too large"});
}

struct TensorCase {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

// Writes one tensor of each dtype (odd byte counts, so padding matters) with random bytes and
// checks the reader reports type, shape, size and an aligned offset, and maps the same bytes.
void round_trip_tensors(uint64_t alignment) {
  const std::vector<TensorCase> cases = {
      {"a.f32", DType::F32, {3, 5}},         // 60 bytes
      {"b.f16", DType::F16, {7}},            // 14 bytes
      {"c.bf16", DType::BF16, {5, 3, 1}},    // 30 bytes, 3-D
      {"d.q8_0", DType::Q8_0, {64, 3}},      // 6 blocks = 204 bytes
      {"e.q4_0", DType::Q4_0, {32, 2, 2, 1}},  // 4 blocks = 72 bytes, 4-D
      {"f.f32", DType::F32, {1}},            // 4 bytes
  };
  test::TempDir dir;
  const auto path = dir.file("t.gguf");
  Writer w(alignment);
  w.set_string("general.name", "tensors");
  std::mt19937 rng(alignment);
  std::vector<std::vector<uint8_t>> data;
  for (const auto& c : cases) {
    w.add_tensor(c.name, c.dtype, c.shape);
    int64_t rows = 1;
    for (size_t i = 1; i < c.shape.size(); ++i) rows *= c.shape[i];
    data.emplace_back(dtype_row_bytes(c.dtype, c.shape[0]) * size_t(rows));
    for (auto& b : data.back()) b = uint8_t(rng());
  }
  w.write_all(path, {data.begin(), data.end()});

  const auto r = Reader::open(path);
  EXPECT_EQ(r.alignment(), alignment);
  if (alignment == gguf::kDefaultAlignment)
    EXPECT_EQ(r.find("general.alignment"), nullptr) << "default alignment is not written";
  else
    EXPECT_EQ(r.get_int("general.alignment"), int64_t(alignment));
  EXPECT_EQ(r.data_offset() % alignment, 0u);
  ASSERT_EQ(r.tensors().size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& t = r.tensors()[i];
    SCOPED_TRACE(cases[i].name + " alignment " + std::to_string(alignment));
    EXPECT_EQ(t.name, cases[i].name);
    EXPECT_EQ(t.dtype, cases[i].dtype);
    EXPECT_EQ(t.shape, cases[i].shape);
    EXPECT_EQ(t.bytes, data[i].size());
    EXPECT_EQ((t.offset - r.data_offset()) % alignment, 0u) << "offset " << t.offset;
    EXPECT_EQ(r.find_tensor(cases[i].name), &t);
    const auto region = r.map_tensor(t);
    ASSERT_EQ(region.size(), data[i].size());
    EXPECT_TRUE(std::equal(data[i].begin(), data[i].end(), region.data()));
  }
  // The last tensor ends within one alignment unit of the end of the file.
  const auto& last = r.tensors().back();
  EXPECT_LE(last.offset + last.bytes, r.file_size());
  EXPECT_LT(r.file_size() - (last.offset + last.bytes), alignment);
  EXPECT_EQ(r.find_tensor("absent"), nullptr);
}

TEST(GgufRoundTrip, TensorsOfEveryDtypeWithDefaultAlignment) { round_trip_tensors(32); }
TEST(GgufRoundTrip, TensorsWithAlignmentOne) { round_trip_tensors(1); }
TEST(GgufRoundTrip, TensorsWithAlignment8) { round_trip_tensors(8); }
TEST(GgufRoundTrip, TensorsWithAlignment4096) { round_trip_tensors(4096); }

TEST(GgufWriter, RejectsWrongDataSizeAndMissingTensors) {
  test::TempDir dir;
  Writer w;
  w.add_tensor("x", DType::F32, {4});
  w.add_tensor("y", DType::F32, {4});
  w.begin(dir.file("w.gguf"));
  const std::vector<uint8_t> three(3);
  test::expect_error([&] { w.write_tensor_data(three); }, {"tensor x", "needs 16 bytes", "got 3"});
  const std::vector<uint8_t> sixteen(16);
  w.write_tensor_data(sixteen);
  test::expect_error([&] { w.finish(); }, {"1 tensors", "declared but not written"});
}

TEST(GgufWriter, RejectsBadAlignmentAndPartialBlocks) {
  test::expect_error([] { Writer w(24); }, {"alignment 24", "not a power of two"});
  test::expect_error([] { Writer w(0); }, {"alignment 0"});
  Writer w;
  test::expect_error([&] { w.add_tensor("q", DType::Q8_0, {33}); }, {"33 elements", "q8_0"});
}

// A GGUF v2 file written field by field: same layout as v3 (u64 counts and lengths).
TEST(GgufReaderV2, ReadsVersion2File) {
  test::Bytes b = test::gguf_header(2, 4, 2);
  b.str("general.architecture").u32(test::kTypeString).str("llama");
  b.str("general.alignment").u32(test::kTypeU32).u32(16);
  b.str("llama.block_count").u32(test::kTypeU64).u64(3);
  b.str("tokenizer.ggml.tokens").u32(test::kTypeArray).u32(test::kTypeString).u64(2);
  b.str("a").str("bc");
  test::tensor_info(b, "w", {2, 3}, test::kGgmlF16, 0);  // 12 bytes, next offset 16
  test::tensor_info(b, "v", {32}, test::kGgmlQ8_0, 16);   // 34 bytes
  b.pad_to(16);
  const size_t data_start = b.size();
  for (int i = 0; i < 6; ++i) b.put(uint16_t(0x3c00 + i));  // f16 1.0, ...
  b.zeros(4);
  b.put(uint16_t(0x3800));  // q8_0 scale 0.5
  for (int i = 0; i < 32; ++i) b.put(int8_t(i - 16));
  test::TempDir dir;
  const auto path = dir.file("v2.gguf");
  test::write_bytes(path, b.b);

  const auto r = Reader::open(path);
  EXPECT_EQ(r.version(), 2u);
  EXPECT_EQ(r.alignment(), 16u);
  EXPECT_EQ(r.data_offset(), data_start);
  EXPECT_EQ(r.get_string("general.architecture"), "llama");
  EXPECT_EQ(r.get_int("llama.block_count"), 3);
  ASSERT_NE(r.get_array("tokenizer.ggml.tokens"), nullptr);
  const auto& tokens = r.get_array("tokenizer.ggml.tokens")->items;
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(std::get<std::string>(tokens[1].v), "bc");
  ASSERT_EQ(r.tensors().size(), 2u);
  const auto* w = r.find_tensor("w");
  const auto* v = r.find_tensor("v");
  ASSERT_TRUE(w && v);
  EXPECT_EQ(w->dtype, DType::F16);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->rows(), 3);
  EXPECT_EQ(w->cols(), 2);
  EXPECT_EQ(w->offset, data_start);
  EXPECT_EQ(w->bytes, 12u);
  EXPECT_EQ(v->dtype, DType::Q8_0);
  EXPECT_EQ(v->offset, data_start + 16);
  EXPECT_EQ(v->bytes, 34u);
  const auto region = r.map_tensor(*v);
  EXPECT_EQ(region.data()[0], 0x00);
  EXPECT_EQ(region.data()[1], 0x38);
  EXPECT_EQ(int8_t(region.data()[2]), -16);
  EXPECT_EQ(int8_t(region.data()[33]), 15);
}

// The reader accepts the hand-built v3 file the error tests start from.
TEST(GgufReaderV2, HandBuiltValidFileOpensAsV2AndV3) {
  for (uint32_t version : {2u, 3u}) {
    const auto f = test::valid_file(version);
    test::TempDir dir;
    test::write_bytes(dir.file("f.gguf"), f.bytes.b);
    const auto r = Reader::open(dir.file("f.gguf"));
    EXPECT_EQ(r.version(), version);
    EXPECT_EQ(r.get_string("general.name"), "x");
    ASSERT_EQ(r.tensors().size(), 1u);
    EXPECT_EQ(r.tensors()[0].offset, f.data_start);
    EXPECT_EQ(r.file_size(), f.bytes.size());
  }
}

}  // namespace
}  // namespace llmpipe
