// PyTorch checkpoints: the safe unpickler, the zip directory and tensor rebuilding.
#include <gtest/gtest.h>

#include "formats/hf/pickle.h"
#include "formats/hf/torch_checkpoint.h"
#include "formats/hf/zip_archive.h"
#include "hf_test_files.h"
#include "torch_test_files.h"

namespace llmpipe {
namespace {

using hf::PyValue;
using test::expect_error;
using test::PickleBuilder;

hf::Unpickled run(const std::vector<uint8_t>& b) { return hf::unpickle(b, "t.pkl"); }

TEST(Pickle, StateDictOfTensors) {
  PickleBuilder p;
  p.begin_state_dict()
      .str("w")
      .tensor("FloatStorage", "0", 12, 2, {2, 5}, {5, 1})
      .str("b")
      .tensor("BFloat16Storage", "1", 3, 0, {3}, {1})
      .end_state_dict();
  const auto u = run(p.b);
  ASSERT_EQ(u.root->kind, PyValue::Kind::Dict);
  ASSERT_EQ(u.root->dict.size(), 2u);
  const PyValue* w = u.root->dict[0].second;
  EXPECT_EQ(u.root->dict[0].first->s, "w");
  ASSERT_EQ(w->kind, PyValue::Kind::Tensor);
  EXPECT_EQ(w->i, 2);
  EXPECT_EQ(w->size, (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(w->stride, (std::vector<int64_t>{5, 1}));
  EXPECT_EQ(w->items[0]->s2, "FloatStorage");
  EXPECT_EQ(w->items[0]->s, "0");
  EXPECT_EQ(w->items[0]->i, 12);
  EXPECT_EQ(u.root->dict[1].second->items[0]->s2, "BFloat16Storage");
}

TEST(Pickle, MemoBuildAndOtherOpcodes) {
  // The OrderedDict global memoized and reused via BINGET, a BUILD with _metadata state,
  // LONG1, SHORT_BINUNICODE, NEWTRUE, lists and protocol 4 framing.
  PickleBuilder p;
  p.op(0x80).op(4).op(0x95);
  for (int i = 0; i < 8; ++i) p.op(0);
  p.global("collections", "OrderedDict").op(0x94).op(')').op('R').op('(');
  p.op(0x8c).op(1).raw("k").tensor("HalfStorage", "7", 4, 0, {2, 2}, {2, 1}).op('u');
  p.op('}').op(0x8c).op(9).raw("_metadata").op('h').op(0).op(')').op('R').op('s').op('b');
  p.op(']').op('(').op(0x88).op(0x8a).op(2).op(0xff).op(0x7f).op('e').op('0');  // a list, popped
  p.op('.');
  const auto u = run(p.b);
  ASSERT_EQ(u.root->dict.size(), 1u);
  EXPECT_EQ(u.root->dict[0].second->items[0]->s2, "HalfStorage");
}

TEST(PickleErrors, RejectsEveryOtherGlobal) {
  for (const auto& [m, n] : std::vector<std::pair<std::string, std::string>>{
           {"os", "system"}, {"builtins", "eval"}, {"posix", "system"}, {"torch", "load"},
           {"torch._utils", "_rebuild_parameter"}, {"subprocess", "Popen"}}) {
    PickleBuilder p;
    p.op(0x80).op(2).global(m, n).str("echo pwned").op(0x85).op('R').op('.');
    expect_error([&] { run(p.b); }, {"t.pkl", "pickle global " + m + "." + n + " is not allowed"});
  }
  PickleBuilder s;  // protocol 4 STACK_GLOBAL spelling
  s.op(0x80).op(4).str("os").str("system").op(0x93).str("ls").op(0x85).op('R').op('.');
  expect_error([&] { run(s.b); }, {"pickle global os.system is not allowed"});
}

TEST(PickleErrors, MalformedStreams) {
  expect_error([] { run({}); }, {"t.pkl", "truncated pickle"});
  expect_error([] { run({0x80, 2, 'X', 9, 0, 0, 0, 'a'}); }, {"truncated pickle"});
  expect_error([] { run({0x80, 2, '0', '.'}); }, {"stack underflow"});
  expect_error([] { run({0x80, 2, 'N', 'N', '.'}); }, {"unbalanced stack"});
  expect_error([] { run({0x80, 2, 'i', '.'}); }, {"unsupported pickle opcode 0x69"});
  expect_error([] { run({0x80, 2, 'h', 5, '.'}); }, {"memo index 5 was never stored"});
  expect_error([] { run({0x80, 9}); }, {"pickle protocol 9 is not supported"});
  expect_error([] { run({0x80, 2, 'N', 'N', 'a', '.'}); }, {"expected a list on the stack, found None"});
  expect_error([] { run({0x80, 2, 'N', ')', 'R', '.'}); }, {"REDUCE calls a None"});
  expect_error([] { run({0x80, 2, 't', '.'}); }, {"MARK missing"});
  expect_error([] { run({0x80, 2, '(', 'N', 'Q', '.'}); }, {"persistent id is not ('storage'"});
  expect_error([] { run({0x80, 2, 0x8a, 9}); }, {"LONG1 of 9 bytes"});
  PickleBuilder p;  // a tensor whose size holds a string
  p.op(0x80).op(2).global("torch._utils", "_rebuild_tensor_v2").op('(');
  p.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(1).op('t').op('Q');
  p.integer(0).op('(').str("x").op('t').ints({1}).op(0x89).op('}').op('t').op('R').op('.');
  expect_error([&] { run(p.b); }, {"tensor size holds a str"});
}

// A checkpoint zip: <prefix>/data.pkl, <prefix>/data/<key>, <prefix>/version.
std::vector<uint8_t> checkpoint(const std::string& prefix, const std::vector<uint8_t>& pkl,
                                const std::vector<std::pair<std::string, std::vector<uint8_t>>>& storages,
                                uint16_t method = 0) {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> e = {{prefix + "/data.pkl", pkl}};
  for (const auto& [k, v] : storages) e.push_back({prefix + "/data/" + k, v});
  e.push_back({prefix + "/version", {'3', '\n'}});
  return test::zip_bytes(e, method);
}

TEST(PickleTorch, ReadsTensorsFromAnyPrefix) {
  PickleBuilder p;
  p.begin_state_dict()
      .str("a")
      .tensor("FloatStorage", "0", 8, 2, {2, 3}, {3, 1})
      .str("h")
      .tensor("HalfStorage", "1", 2, 0, {2}, {1})
      .end_state_dict();
  test::TempDir dir;
  const auto path = dir.file("my_model.bin");
  test::write_bytes(path, checkpoint("anything", p.b, {{"0", test::iota_f32(8)}, {"1", {0, 0x3c, 0, 0x40}}}));
  const auto ts = hf::read_torch_checkpoint(path);
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts[0].name, "a");
  EXPECT_EQ(ts[0].dtype, DType::F32);
  EXPECT_EQ(ts[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ts[0].bytes, 24u);
  const auto region = ts[0].map();
  float first;
  std::memcpy(&first, region.data(), 4);
  EXPECT_EQ(first, 2.0f);  // storage offset 2
  EXPECT_EQ(ts[1].dtype, DType::F16);
}

TEST(PickleTorchErrors, BadCheckpoints) {
  test::TempDir dir;
  const auto path = dir.file("pytorch_model.bin");
  auto expect = [&](const std::vector<uint8_t>& file, std::initializer_list<std::string> parts) {
    test::write_bytes(path, file);
    expect_error([&] { hf::read_torch_checkpoint(path); }, parts);
  };
  auto one = [](const std::string& type, int64_t numel, int64_t offset, std::vector<int64_t> size,
                std::vector<int64_t> stride) {
    PickleBuilder p;
    p.begin_state_dict().str("t").tensor(type, "0", numel, offset, size, stride).end_state_dict();
    return p.b;
  };
  const auto f4 = test::iota_f32(4);
  expect(checkpoint("m", one("FloatStorage", 4, 0, {2, 2}, {1, 2}), {{"0", f4}}),
         {path, "tensor t is not contiguous", "stride [1, 2]"});
  expect(checkpoint("m", one("FloatStorage", 4, 1, {2, 2}, {2, 1}), {{"0", f4}}),
         {"tensor t (offset 1, 4 elements) lies outside its storage of 4 elements"});
  expect(checkpoint("m", one("FloatStorage", 8, 0, {2, 2}, {2, 1}), {{"0", f4}}),
         {"holds 16 bytes, but its persistent id says 8 x 4-byte elements"});
  expect(checkpoint("m", one("FloatStorage", 4, 0, {4}, {1}), {{"9", f4}}),
         {"storage entry m/data/0 is missing"});
  expect(checkpoint("m", one("FloatStorage", 4, 0, {4}, {1}), {{"0", f4}}, 8),
         {"is compressed (method 8)"});
  expect({'P', 'K', 3, 4}, {"too short for a zip archive"});
  expect(std::vector<uint8_t>(100, 'x'), {"not a zip archive"});
  auto z = checkpoint("m", one("FloatStorage", 4, 0, {4}, {1}), {{"0", f4}});
  z.resize(z.size() - 30);  // cut into the central directory
  expect(z, {path});
  expect(test::zip_bytes({{"m/other", {1}}}), {"no <name>/data.pkl entry"});
  PickleBuilder list;
  list.op(0x80).op(2).op(']').op('.');
  expect(checkpoint("m", list.b, {}), {"the pickled object is a list, not a state dict"});
  // An unsupported storage type loads the header but cannot be used.
  test::write_bytes(path, checkpoint("m", one("LongStorage", 2, 0, {2}, {1}), {{"0", f4}}));
  const auto ts = hf::read_torch_checkpoint(path);
  expect_error([&] { ts[0].require_dtype(); }, {"unsupported dtype LongStorage for tensor t"});
}

}  // namespace
}  // namespace llmpipe

namespace llmpipe {
namespace {

// Zip64, as torch.save writes shards over 4 GiB: sizes and offsets 0xffffffff in the central
// directory with the real values in the zip64 extra field, and a zip64 end record + locator.
TEST(PickleTorch, ReadsZip64Directories) {
  const std::vector<uint8_t> data = {1, 2, 3, 4, 5};
  const std::string name = "m/data/0";
  std::vector<uint8_t> z;
  using test::put_le;
  put_le(z, 0x04034b50, 4);
  put_le(z, 45, 2);
  put_le(z, 0, 2);
  put_le(z, 0, 2);
  put_le(z, 0, 8);
  put_le(z, 0xffffffff, 4);
  put_le(z, 0xffffffff, 4);
  put_le(z, name.size(), 2);
  put_le(z, 20, 2);
  z.insert(z.end(), name.begin(), name.end());
  put_le(z, 1, 2);  // zip64 extra in the local header
  put_le(z, 16, 2);
  put_le(z, data.size(), 8);
  put_le(z, data.size(), 8);
  const uint64_t data_at = z.size();
  z.insert(z.end(), data.begin(), data.end());
  const uint64_t cd_at = z.size();
  put_le(z, 0x02014b50, 4);
  put_le(z, 45, 2);
  put_le(z, 45, 2);
  put_le(z, 0, 2);
  put_le(z, 0, 2);
  put_le(z, 0, 8);
  put_le(z, 0xffffffff, 4);
  put_le(z, 0xffffffff, 4);
  put_le(z, name.size(), 2);
  put_le(z, 28, 2);
  put_le(z, 0, 2);
  put_le(z, 0, 2);
  put_le(z, 0, 2);
  put_le(z, 0, 4);
  put_le(z, 0xffffffff, 4);
  z.insert(z.end(), name.begin(), name.end());
  put_le(z, 1, 2);
  put_le(z, 24, 2);
  put_le(z, data.size(), 8);  // uncompressed
  put_le(z, data.size(), 8);  // compressed
  put_le(z, 0, 8);            // local header offset
  const uint64_t cd_size = z.size() - cd_at;
  const uint64_t z64_at = z.size();
  put_le(z, 0x06064b50, 4);
  put_le(z, 44, 8);
  put_le(z, 45, 2);
  put_le(z, 45, 2);
  put_le(z, 0, 4);
  put_le(z, 0, 4);
  put_le(z, 1, 8);
  put_le(z, 1, 8);
  put_le(z, cd_size, 8);
  put_le(z, cd_at, 8);
  put_le(z, 0x07064b50, 4);
  put_le(z, 0, 4);
  put_le(z, z64_at, 8);
  put_le(z, 1, 4);
  put_le(z, 0x06054b50, 4);
  put_le(z, 0, 4);
  put_le(z, 0xffff, 2);
  put_le(z, 0xffff, 2);
  put_le(z, 0xffffffff, 4);
  put_le(z, 0xffffffff, 4);
  put_le(z, 0, 2);
  const auto entries = hf::parse_zip_directory(z, "z64.bin");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].name, name);
  EXPECT_EQ(entries[0].size, 5u);
  EXPECT_EQ(entries[0].data_offset, data_at);
  // The locator pointing elsewhere is an error, not a wild read.
  z[z.size() - 22 - 20 + 8] ^= 0x40;
  expect_error([&] { hf::parse_zip_directory(z, "z64.bin"); }, {"z64.bin"});
}

TEST(PickleTorchErrors, BigEndianStorages) {
  PickleBuilder p;
  p.begin_state_dict().str("t").tensor("FloatStorage", "0", 1, 0, {1}, {1}).end_state_dict();
  test::TempDir dir;
  const auto path = dir.file("x.bin");
  test::write_bytes(path, test::zip_bytes({{"x/data.pkl", p.b}, {"x/byteorder", {'b', 'i', 'g'}},
                                           {"x/data/0", test::iota_f32(1)}}));
  expect_error([&] { hf::read_torch_checkpoint(path); }, {"not little-endian", "'big'"});
  test::write_bytes(path, test::zip_bytes({{"x/data.pkl", p.b}, {"x/byteorder", {'l', 'i', 't', 't', 'l', 'e'}},
                                           {"x/data/0", test::iota_f32(1)}}));
  EXPECT_EQ(hf::read_torch_checkpoint(path).size(), 1u);
}

}  // namespace
}  // namespace llmpipe
