// Template source to tokens, with the whitespace rules transformers renders chat templates
// under: Jinja2 with trim_blocks=True (the newline after a block or comment tag is dropped),
// lstrip_blocks=True (spaces and tabs before a block or comment tag at the start of a line are
// dropped), keep_trailing_newline=False (one final newline of the source is dropped), plus the
// `-` (strip all whitespace on that side) and `+` (keep it) tag modifiers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmpipe::chat {

enum class Tok : uint8_t {
  Text,        // literal text between tags
  VarBegin,    // {{
  VarEnd,      // }}
  BlockBegin,  // {%
  BlockEnd,    // %}
  Name,
  String,
  Int,
  Float,
  Op,  // operators and punctuation: + - * / // % ** ~ == != < > <= >= = ( ) [ ] { } , . : |
  End,
};

struct Token {
  Tok kind;
  std::string text;  // Text, Name, Op, String (unescaped) and the source of numbers
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1, column = 1;
};

// Tokenizes a whole template; syntax errors (an unclosed tag or string) are Errors naming the
// line and column.
std::vector<Token> tokenize(std::string_view source);

// "line L, column C" of a token, for messages.
std::string where(int line, int column);

}  // namespace llmpipe::chat
