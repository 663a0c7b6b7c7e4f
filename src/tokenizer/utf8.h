// Small UTF-8 helpers shared by the tokenizer's parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmpipe::detail {

// Length of the UTF-8 sequence starting with byte c (1 for invalid lead bytes).
inline size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xe) return 3;
  if ((c >> 3) == 0x1e) return 4;
  return 1;
}

inline void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3f));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

// The code point at s[i] and its length in bytes; an invalid or truncated sequence is one
// byte with code point UINT32_MAX.
struct CodePoint {
  uint32_t cp;
  size_t len;
};
inline CodePoint next_code_point(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t len = utf8_len(c);
  if (len == 1) return {c < 0x80 ? uint32_t(c) : UINT32_MAX, 1};
  if (i + len > s.size()) return {UINT32_MAX, 1};
  uint32_t cp = c & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return {UINT32_MAX, 1};
    cp = (cp << 6) | (b & 0x3f);
  }
  return {cp, len};
}

}  // namespace llmpipe::detail
