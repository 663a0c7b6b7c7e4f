// Code-point views of UTF-8 strings: Python counts, slices and strips strings by code point,
// and a template that slices a JSON dump or strips a message must give the same text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmpipe::chat {

// Decodes UTF-8; an invalid byte b becomes U+DC00+b as Python's surrogateescape does (never fails),
// so encode(decode(s)) gives back s for valid text.
std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
void utf8_append(std::string& out, char32_t c);

// Python's str.isspace() for one code point.
bool is_py_space(char32_t c);

}  // namespace llmpipe::chat
