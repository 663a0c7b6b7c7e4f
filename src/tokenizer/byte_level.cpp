#include "tokenizer/byte_level.h"

#include <array>
#include <cstdint>

#include "tokenizer/utf8.h"

namespace llmpipe::detail {

namespace {

// The printable Latin-1 bytes stand for themselves; the others (controls, space, DEL, NBSP,
// soft hyphen...) take code points 256, 257, ... in byte order.
constexpr bool printable(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}
constexpr uint32_t kAlphabetEnd = 256 + 68;  // 68 bytes are remapped

struct Tables {
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, kAlphabetEnd> code_point_to_byte;  // -1: not in the alphabet
  Tables() {
    code_point_to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = printable(b) ? uint32_t(b) : next++;
      append_utf8(byte_to_utf8[size_t(b)], cp);
      code_point_to_byte[cp] = int16_t(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

void byte_level_encode(std::string_view bytes, std::string& out) {
  const Tables& t = tables();
  for (char c : bytes) out += t.byte_to_utf8[static_cast<unsigned char>(c)];
}

std::string byte_level_decode(std::string_view text) {
  const Tables& t = tables();
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const CodePoint c = next_code_point(text, i);
    if (c.cp < kAlphabetEnd && t.code_point_to_byte[c.cp] >= 0)
      out += char(t.code_point_to_byte[c.cp]);
    else
      out.append(text.substr(i, c.len));
    i += c.len;
  }
  return out;
}

}  // namespace llmpipe::detail
