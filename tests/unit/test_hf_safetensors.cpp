// safetensors header parsing and validation: every lie a header can tell is a clear error.
#include <gtest/gtest.h>

#include "formats/hf/safetensors.h"
#include "hf_test_files.h"

namespace llmpipe {
namespace {

using test::expect_error;
using test::safetensors_bytes;

hf::SafetensorsHeader parse(const std::string& header, uint64_t data_size) {
  return hf::parse_safetensors_header(
      std::span(reinterpret_cast<const uint8_t*>(header.data()), header.size()), 8 + header.size(),
      data_size, "x.safetensors");
}

TEST(Safetensors, ReadsTensorsAndMetadata) {
  test::TempDir dir;
  const auto path = dir.file("m.safetensors");
  test::write_bytes(path, test::safetensors_file({{"b", "BF16", {2, 3}, std::vector<uint8_t>(12, 1)},
                                                  {"a", "F32", {4}, test::iota_f32(4)},
                                                  {"i", "I64", {1}, std::vector<uint8_t>(8, 0)}}));
  const auto h = hf::read_safetensors(path);
  ASSERT_EQ(h.tensors.size(), 3u);
  const auto& a = h.tensors[1];  // data order: b, a, i
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(a.bytes, 16u);
  const auto region = a.map();
  float v[4];
  std::memcpy(v, region.data(), 16);
  EXPECT_EQ(v[3], 3.0f);
  EXPECT_EQ(h.tensors[0].dtype, DType::BF16);
  EXPECT_FALSE(h.tensors[2].dtype.has_value());
  expect_error([&] { h.tensors[2].require_dtype(); }, {"unsupported dtype I64 for tensor i", path});
}

TEST(Safetensors, MetadataAndEmptyTensors) {
  const auto h = parse(R"({"__metadata__": {"format": "pt"}, "e": {"dtype": "F16", "shape": [0, 4],
                          "data_offsets": [0, 0]}, "x": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})",
                       4);
  EXPECT_EQ(h.metadata.at("format"), "pt");
  EXPECT_EQ(h.tensors.size(), 2u);
}

TEST(SafetensorsErrors, HeaderLengthBeyondFile) {
  test::TempDir dir;
  auto bytes = safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
                                 {0, 0, 0, 0});
  bytes[0] = 0xff;  // header length 255 + ...: past the end
  test::write_bytes(dir.file("a.safetensors"), bytes);
  expect_error([&] { hf::read_safetensors(dir.file("a.safetensors")); },
               {"a.safetensors", "header length", "exceeds the file size"});
  bytes[7] = 0x7f;  // absurd: beyond the 100 MB limit
  test::write_bytes(dir.file("b.safetensors"), bytes);
  expect_error([&] { hf::read_safetensors(dir.file("b.safetensors")); }, {"exceeds the limit"});
  test::write_bytes(dir.file("c.safetensors"), {1, 2, 3});
  expect_error([&] { hf::read_safetensors(dir.file("c.safetensors")); }, {"too short"});
}

TEST(SafetensorsErrors, OffsetsAndSizes) {
  // End past the data region.
  expect_error([] { parse(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 4); },
               {"x.safetensors", "tensor a", "outside the data region of 4 bytes"});
  // Span disagrees with dtype x shape.
  expect_error([] { parse(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", 4); },
               {"tensor a", "span 4 bytes", "F32 x 2 elements need 8"});
  // begin > end.
  expect_error([] { parse(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", 4); },
               {"tensor a", "outside the data region"});
  // Overlap.
  expect_error([] {
    parse(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8);
  }, {"overlaps"});
  // Hole, and bytes nobody indexes.
  expect_error([] { parse(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8); },
               {"hole of 4 bytes before tensor a"});
  expect_error([] { parse(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8); },
               {"cover 4 bytes but the data region holds 8"});
  // Shape overflow and negative / non-integer values.
  expect_error([] {
    parse(R"({"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 4]}})", 4);
  }, {"tensor a"});
  expect_error([] { parse(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4); },
               {"tensor a", "shape", "not a non-negative integer"});
  expect_error([] { parse(R"({"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", 4); },
               {"not a non-negative integer"});
}

TEST(SafetensorsErrors, MalformedEntries) {
  expect_error([] { parse("not json", 0); }, {"x.safetensors", "not valid JSON"});
  expect_error([] { parse("[1, 2]", 0); }, {"not a JSON object"});
  expect_error([] { parse(R"({"a": 3})", 0); }, {"tensor a", "not a JSON object"});
  expect_error([] { parse(R"({"a": {"dtype": "F32", "shape": [1]}})", 4); }, {"tensor a", "missing field data_offsets"});
  expect_error([] { parse(R"({"a": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 4]}})", 4); },
               {"tensor a", "unknown dtype Q9"});
  expect_error([] { parse(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4); },
               {"data_offsets is not an array [begin, end]"});
  expect_error([] { parse(R"({"__metadata__": {"k": 1}})", 0); }, {"__metadata__ value of k"});
}

}  // namespace
}  // namespace llmpipe
