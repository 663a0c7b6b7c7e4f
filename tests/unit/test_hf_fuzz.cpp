// Deterministic mutation testing of the parsers that read untrusted checkpoint bytes: the
// safetensors header, the zip directory and the unpickler. Thousands of mutated valid inputs
// (bit flips, byte edits, insertions, deletions, truncations, splices of tokens that matter to
// each format); every one must either parse or fail with llmpipe::Error, never crash, hang or
// read out of bounds (scripts/test.sh runs these under ASan+UBSan). The libFuzzer targets in
// fuzz/ explore further with coverage guidance (scripts/fuzz.sh).
#include <gtest/gtest.h>

#include <random>

#include "formats/hf/pickle.h"
#include "formats/hf/safetensors.h"
#include "formats/hf/zip_archive.h"
#include "hf_test_files.h"
#include "torch_test_files.h"

namespace llmpipe {
namespace {

using namespace std::string_literals;

constexpr int kIterations = 4000;

class Mutator {
 public:
  Mutator(uint32_t seed, std::vector<std::string> tokens) : rng_(seed), tokens_(std::move(tokens)) {}

  std::vector<uint8_t> mutate(std::vector<uint8_t> b) {
    const int n = 1 + int(pick(4));
    for (int i = 0; i < n; ++i) {
      const size_t at = b.empty() ? 0 : size_t(pick(b.size()));
      switch (pick(7)) {
        case 0:
          if (!b.empty()) b[at] ^= uint8_t(1u << pick(8));
          break;
        case 1:
          if (!b.empty()) b[at] = uint8_t(pick(256));
          break;
        case 2: b.insert(b.begin() + long(at), uint8_t(pick(256))); break;
        case 3:
          if (!b.empty()) b.erase(b.begin() + long(at), b.begin() + long(std::min(b.size(), at + 1 + pick(8))));
          break;
        case 4: b.resize(at); break;
        case 5: {
          const auto& t = tokens_[pick(tokens_.size())];
          b.insert(b.begin() + long(at), t.begin(), t.end());
          break;
        }
        case 6:
          if (!b.empty()) {  // overwrite with a special value
            static constexpr uint8_t special[] = {0x00, 0xff, 0x7f, 0x80, '.', 'R', '(', '"', '}'};
            b[at] = special[pick(std::size(special))];
          }
          break;
      }
    }
    return b;
  }

 private:
  uint64_t pick(uint64_t n) { return n == 0 ? 0 : std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  std::mt19937_64 rng_;
  std::vector<std::string> tokens_;
};

// Runs `parse` on mutations of `seed_input`; only llmpipe::Error may escape it.
template <typename Parse>
void fuzz(const std::vector<uint8_t>& seed_input, std::vector<std::string> tokens, uint32_t seed,
          Parse&& parse) {
  Mutator m(seed, std::move(tokens));
  int parsed = 0, rejected = 0;
  for (int i = 0; i < kIterations; ++i) {
    const auto input = m.mutate(seed_input);
    try {
      parse(input);
      ++parsed;
    } catch (const Error& e) {
      ++rejected;
      ASSERT_GT(std::string(e.what()).size(), 10u);
    } catch (const std::exception& e) {
      FAIL() << "iteration " << i << ": non-llmpipe exception: " << e.what();
    }
  }
  EXPECT_GT(rejected, 0);
  ::testing::Test::RecordProperty("parsed", parsed);
}

std::vector<uint8_t> seed_safetensors() {
  return test::safetensors_file({{"model.embed_tokens.weight", "F32", {4, 2}, test::iota_f32(8)},
                                 {"b", "BF16", {3}, std::vector<uint8_t>(6, 1)},
                                 {"c", "I64", {1}, std::vector<uint8_t>(8, 2)}});
}

void parse_safetensors_file(const std::vector<uint8_t>& f) {
  if (f.size() < 8) fail("fuzz: shorter than the header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | f[size_t(i)];
  if (n > f.size() - 8) fail("fuzz: header length past the end");
  hf::parse_safetensors_header(std::span(f.data() + 8, size_t(n)), 8 + n, f.size() - 8 - n, "fuzz");
}

TEST(SafetensorsFuzz, MutatedHeadersFailCleanly) {
  fuzz(seed_safetensors(),
       {"-1", "1e300", "18446744073709551615", "9223372036854775807", "4611686018427387904",
        "\"F16\"", "\"Q4\"", "null", "[", "]", "{", "}", ",", "\"dtype\"", "\"shape\"",
        "\"data_offsets\"", "\"__metadata__\"", "[0,0]", "\\u0000"s, "\xff\xfe"},
       1234, parse_safetensors_file);
  // The header length itself: every value near the real one and far from it.
  auto base = seed_safetensors();
  for (uint64_t delta : {1ull, 2ull, 7ull, 8ull, 1ull << 32, 1ull << 63}) {
    for (int sign : {-1, 1}) {
      auto f = base;
      uint64_t n = 0;
      for (int i = 7; i >= 0; --i) n = (n << 8) | f[size_t(i)];
      n += uint64_t(sign) * delta;
      for (int i = 0; i < 8; ++i) f[size_t(i)] = uint8_t(n >> (8 * i));
      EXPECT_THROW(parse_safetensors_file(f), Error);
    }
  }
}

std::vector<uint8_t> seed_pickle() {
  test::PickleBuilder p;
  p.begin_state_dict()
      .str("w")
      .tensor("FloatStorage", "0", 12, 2, {2, 5}, {5, 1})
      .str("b")
      .op('h').op(0).op(')').op('R')  // a nested OrderedDict via the memo
      .end_state_dict();
  return p.b;
}

TEST(PickleFuzz, MutatedPicklesFailCleanly) {
  fuzz(seed_pickle(),
       {"cos\nsystem\n", "cbuiltins\neval\n", "ctorch\nFloatStorage\n", "q\xff", "r\xff\xff\xff\xff",
        "j\x00\x00\x00\x01"s, "h\x05", "(", "t", "R", "Q", "b", "s", "u", "e", "a", "0", "1", "2",
        "\x8a\x08\xff\xff\xff\xff\xff\xff\xff\xff", "X\xff\xff\xff\x7f", "\x8d\xff\xff\xff\xff\xff\xff\xff\xff",
        "\x95\x01\x00\x00\x00\x00\x00\x00\x00"s, "\x93", "\x94", ".", "N", "}"},
       5678, [](const std::vector<uint8_t>& b) { hf::unpickle(b, "fuzz"); });
}

TEST(PickleFuzz, MutatedZipDirectoriesFailCleanly) {
  const auto zip = test::zip_bytes({{"m/data.pkl", seed_pickle()}, {"m/data/0", test::iota_f32(12)},
                                    {"m/version", {'3', '\n'}}});
  fuzz(zip, {"PK\x05\x06", "PK\x01\x02", "PK\x03\x04", "PK\x06\x07", "PK\x06\x06", "\xff\xff\xff\xff",
             "\xff\xff", "\x01\x00\x08\x00"s},
       91011, [](const std::vector<uint8_t>& b) {
         for (const auto& e : hf::parse_zip_directory(b, "fuzz")) {
           // Everything returned must lie inside the input.
           if (e.data_offset > b.size() || e.compressed_size > b.size() - e.data_offset)
             throw std::logic_error("entry outside the file");
         }
       });
}

}  // namespace
}  // namespace llmpipe
