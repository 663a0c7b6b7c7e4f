// GPT-2's byte-level alphabet: every byte is a printable character (bytes_to_unicode in
// OpenAI's encoder.py), so byte-level BPE vocabularies are strings of these characters.
#pragma once

#include <string>
#include <string_view>

namespace llmpipe::detail {

// Each byte of `bytes` as its character's UTF-8 (e.g. ' ' -> "Ġ", '\n' -> "Ċ"), appended to out.
void byte_level_encode(std::string_view bytes, std::string& out);

// The inverse: a token's text back to its bytes. Characters outside the alphabet (an added
// token's text, say) are kept as they are.
std::string byte_level_decode(std::string_view text);

}  // namespace llmpipe::detail
