// The GGUF reader's size checks for every tensor type it reads, against the block sizes of the
// GGUF format (ggml's type traits, written out here rather than taken from core/dtype.cpp, so a
// wrong entry in that table fails here): whole blocks per row, data not past the end of the file,
// data not overlapping the next tensor's, unknown type ids refused. Each error names the tensor.
#include <gtest/gtest.h>

#include <set>

#include "formats/gguf_reader.h"
#include "gguf_bytes.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

using gguf::Reader;
using test::Bytes;

struct TypeFacts {
  const char* name;  // llmpipe's dtype name
  uint32_t ggml_id;
  int64_t block;  // elements per block
  uint64_t block_bytes;
};
// ggml's type ids and block sizes (ggml.h / ggml.c type traits).
constexpr TypeFacts kTypes[] = {
    {"f32", 0, 1, 4},       {"f16", 1, 1, 2},       {"bf16", 30, 1, 2},
    {"q4_0", 2, 32, 18},    {"q4_1", 3, 32, 20},    {"q5_0", 6, 32, 22},
    {"q5_1", 7, 32, 24},    {"q8_0", 8, 32, 34},    {"q2_k", 10, 256, 84},
    {"q3_k", 11, 256, 110}, {"q4_k", 12, 256, 144}, {"q5_k", 13, 256, 176},
    {"q6_k", 14, 256, 210}, {"iq4_nl", 20, 32, 18}, {"iq4_xs", 23, 256, 136},
};

// A file with no metadata, the given tensor infos (name, dims, type, offset), then `data` bytes.
struct Info {
  std::string name;
  std::vector<int64_t> dims;
  uint32_t type;
  uint64_t offset = 0;
};
std::vector<uint8_t> file_with(const std::vector<Info>& infos, size_t data,
                               size_t* data_start = nullptr) {
  Bytes b = test::gguf_header(infos.size(), 0);
  for (const auto& i : infos) test::tensor_info(b, i.name, i.dims, i.type, i.offset);
  b.pad_to(32);
  if (data_start) *data_start = b.size();
  b.zeros(data);
  return b.b;
}

void expect_open_error(const std::vector<uint8_t>& bytes,
                       std::initializer_list<std::string> parts) {
  test::TempDir dir;
  const auto path = dir.file("bad.gguf");
  test::write_bytes(path, bytes);
  test::expect_error([&] { (void)Reader::open(path); }, parts);
}

Reader open_bytes(const test::TempDir& dir, const std::vector<uint8_t>& bytes) {
  const auto path = dir.file("ok.gguf");
  test::write_bytes(path, bytes);
  return Reader::open(path);
}

// Two rows of two blocks each: exactly 4 blocks of data is read with the type's size.
TEST(GgufBlockTypes, WholeBlocksAreReadWithTheFormatsSize) {
  for (const auto& t : kTypes) {
    SCOPED_TRACE(t.name);
    test::TempDir dir;
    const auto r =
        open_bytes(dir, file_with({{"w", {2 * t.block, 2}, t.ggml_id}}, 4 * t.block_bytes));
    ASSERT_EQ(r.tensors().size(), 1u);
    EXPECT_EQ(dtype_name(r.tensors()[0].dtype), t.name);
    EXPECT_EQ(r.tensors()[0].bytes, 4 * t.block_bytes);
  }
}

TEST(GgufBlockTypes, RowNotWholeBlocksNamesTheTensor) {
  for (const auto& t : kTypes) {
    if (t.block == 1) continue;
    SCOPED_TRACE(t.name);
    const int64_t row = t.block + t.block / 2;  // one and a half blocks
    expect_open_error(file_with({{"blk.1.ffn_up.weight", {row, 2}, t.ggml_id}}, 4 * t.block_bytes),
                      {"tensor blk.1.ffn_up.weight", cat("of type ", t.name),
                       cat("row of ", row, " elements"), cat("block size ", t.block)});
  }
}

TEST(GgufBlockTypes, TruncatedBlockDataNamesTheTensor) {
  for (const auto& t : kTypes) {
    SCOPED_TRACE(t.name);
    size_t start = 0;
    // Three rows of two blocks declared; the file ends one byte short of the sixth block's end.
    auto bytes = file_with({{"blk.0.attn_v.weight", {2 * t.block, 3}, t.ggml_id}},
                           6 * t.block_bytes - 1, &start);
    expect_open_error(
        bytes, {"tensor blk.0.attn_v.weight", cat("[", start, ", ", start + 6 * t.block_bytes, ")"),
                "past the end of the file"});
  }
}

TEST(GgufBlockTypes, UnknownTypeIdsAreRefusedByName) {
  std::set<uint32_t> known;
  for (const auto& t : kTypes) known.insert(t.ggml_id);
  for (uint32_t id = 0; id < 40; ++id) {
    if (known.count(id)) continue;
    SCOPED_TRACE(id);
    expect_open_error(
        file_with({{"output.weight", {256, 2}, id}}, 2048),
        {"unsupported tensor type", cat("(ggml type ", id, ")"), "for tensor output.weight"});
  }
  for (uint32_t id : {1000u, 0xFFFFFFFFu})
    expect_open_error(file_with({{"x", {32}, id}}, 128),
                      {"unsupported tensor type unknown", cat("ggml type ", id), "tensor x"});
}

// A file whose types lie about its data: "a" is declared q5_k (4 rows x 176 = 704 bytes from
// offset 0) but laid out as q4_k (576 bytes, where "b" begins). Read as declared, it would take
// b's first bytes as its own weights.
TEST(GgufBlockTypes, DataOverlappingTheNextTensorNamesBoth) {
  const std::vector<Info> lying = {{"blk.0.attn_q.weight", {256, 4}, 13, 0},
                                   {"blk.0.attn_k.weight", {256, 4}, 12, 576}};
  expect_open_error(file_with(lying, 576 + 576),
                    {"tensor blk.0.attn_q.weight", "q5_k", "704 bytes", "overlaps",
                     "tensor blk.0.attn_k.weight", "type or shape does not match"});
  // The same found whatever order the infos are listed in.
  expect_open_error(file_with({lying[1], lying[0]}, 576 + 576),
                    {"tensor blk.0.attn_q.weight", "overlaps", "tensor blk.0.attn_k.weight"});
  // A row count that lies (5 rows instead of 4) overlaps just the same.
  expect_open_error(file_with({{"a", {256, 5}, 12, 0}, {"b", {256, 4}, 12, 576}}, 1152),
                    {"tensor a", "720 bytes", "overlaps tensor b"});
  // Adjacent, not overlapping: accepted.
  test::TempDir dir;
  EXPECT_NO_THROW(
      (void)open_bytes(dir, file_with({{"a", {256, 4}, 12, 0}, {"b", {256, 4}, 12, 576}}, 1152)));
}

}  // namespace
}  // namespace llmpipe
