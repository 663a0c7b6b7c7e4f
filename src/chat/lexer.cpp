#include "chat/lexer.h"

#include <algorithm>
#include <cctype>

#include "chat/utf8.h"
#include "core/error.h"

namespace llmpipe::chat {

std::string where(int line, int column) {
  return cat("line ", line, ", column ", column);
}

namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Jinja2 normalizes every line ending to "\n" and, without keep_trailing_newline, drops one
// trailing newline.
std::string normalize(std::string_view in) {
  std::string s;
  s.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r') {
      s.push_back('\n');
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else {
      s.push_back(in[i]);
    }
  }
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(normalize(source)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t pos = 0;
    while (pos < src_.size()) {
      const size_t open = find_open(pos);
      std::string text =
          src_.substr(pos, open == std::string::npos ? std::string::npos : open - pos);
      if (open == std::string::npos) {
        emit_text(std::move(text), pos);
        break;
      }
      const char kind = src_[open + 1];
      const char mod = open + 2 < src_.size() ? src_[open + 2] : '\0';
      const bool has_mod = mod == '-' || (mod == '+' && kind != '{');
      if (mod == '-')
        while (!text.empty() && is_ws(text.back())) text.pop_back();
      else if (mod != '+' && kind != '{')
        lstrip(text, pos);
      emit_text(std::move(text), pos);
      const size_t body = open + 2 + (has_mod ? 1 : 0);
      pos = kind == '#' ? skip_comment(open, body) : lex_tag(open, body, kind == '{');
    }
    out_.push_back(make(Tok::End, "", src_.size()));
    return std::move(out_);
  }

 private:
  size_t find_open(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1))
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
        return i;
    return std::string::npos;
  }

  // lstrip_blocks: drop spaces and tabs between the start of the line and the tag.
  void lstrip(std::string& text, size_t text_start) const {
    const size_t nl = text.rfind('\n');
    const size_t l = nl == std::string::npos ? 0 : nl + 1;
    const bool line_start = l > 0 || text_start == 0 || src_[text_start - 1] == '\n';
    if (!line_start || l == text.size()) return;
    if (std::all_of(text.begin() + long(l), text.end(), is_ws)) text.resize(l);
  }

  // After a closing tag: `-` strips all whitespace, else trim_blocks drops one newline
  // (block and comment tags only, and not after `+`).
  size_t after_close(size_t p, char mod, bool trim_newline) const {
    if (mod == '-') {
      while (p < src_.size() && is_ws(src_[p])) ++p;
    } else if (mod != '+' && trim_newline && p < src_.size() && src_[p] == '\n') {
      ++p;
    }
    return p;
  }

  size_t skip_comment(size_t open, size_t body) {
    const size_t close = src_.find("#}", body);
    if (close == std::string::npos) fail_at(open, "comment '{#' is never closed with '#}'");
    const char mod = close > body ? src_[close - 1] : '\0';
    return after_close(close + 2, mod, true);
  }

  size_t lex_tag(size_t open, size_t p, bool is_var) {
    out_.push_back(make(is_var ? Tok::VarBegin : Tok::BlockBegin, "", open));
    const char closer = is_var ? '}' : '%';
    int depth = 0;
    while (true) {
      while (p < src_.size() && is_ws(src_[p])) ++p;
      if (p >= src_.size())
        fail_at(open, is_var ? "'{{' is never closed with '}}'" : "'{%' is never closed with '%}'");
      const char c = src_[p];
      const char mod = (c == '-' || (c == '+' && !is_var)) ? c : '\0';
      const size_t q = p + (mod ? 1 : 0);
      if (depth == 0 && q + 1 < src_.size() && src_[q] == closer && src_[q + 1] == '}') {
        out_.push_back(make(is_var ? Tok::VarEnd : Tok::BlockEnd, "", p));
        return after_close(q + 2, mod, !is_var);
      }
      p = lex_one(p, depth);
    }
  }

  size_t lex_one(size_t p, int& depth) {
    const char c = src_[p];
    if (c == '\'' || c == '"') return lex_string(p);
    if (std::isdigit(uint8_t(c))) return lex_number(p);
    if (std::isalpha(uint8_t(c)) || c == '_') {
      size_t e = p;
      while (e < src_.size() && (std::isalnum(uint8_t(src_[e])) || src_[e] == '_')) ++e;
      out_.push_back(make(Tok::Name, src_.substr(p, e - p), p));
      return e;
    }
    static const char* const two[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : two)
      if (src_.compare(p, 2, op) == 0) {
        out_.push_back(make(Tok::Op, op, p));
        return p + 2;
      }
    if (std::string_view("+-*/%~<>=()[]{},.:|").find(c) == std::string_view::npos)
      fail_at(p, cat("unexpected character '", c, "' in a tag"));
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    out_.push_back(make(Tok::Op, std::string(1, c), p));
    return p + 1;
  }

  size_t lex_number(size_t p) {
    size_t e = p;
    auto digits = [&] {
      while (e < src_.size() && (std::isdigit(uint8_t(src_[e])) || src_[e] == '_')) ++e;
    };
    digits();
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && std::isdigit(uint8_t(src_[e + 1]))) {
      is_float = true;
      ++e;
      digits();
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t f = e + 1;
      if (f < src_.size() && (src_[f] == '+' || src_[f] == '-')) ++f;
      if (f < src_.size() && std::isdigit(uint8_t(src_[f]))) {
        is_float = true;
        e = f;
        digits();
      }
    }
    std::string text = src_.substr(p, e - p);
    std::erase(text, '_');
    Token t = make(is_float ? Tok::Float : Tok::Int, text, p);
    try {
      if (is_float)
        t.float_value = std::stod(text);
      else
        t.int_value = std::stoll(text);
    } catch (const std::exception&) {
      fail_at(p, "number " + text + " is out of range");
    }
    out_.push_back(std::move(t));
    return e;
  }

  size_t lex_string(size_t p) {
    const char q = src_[p];
    std::string s;
    size_t i = p + 1;
    for (; i < src_.size() && src_[i] != q; ++i) {
      if (src_[i] != '\\' || i + 1 >= src_.size()) {
        s.push_back(src_[i]);
        continue;
      }
      i = unescape(i, s);
    }
    if (i >= src_.size()) fail_at(p, "string literal is never closed");
    out_.push_back(make(Tok::String, std::move(s), p));
    return i + 1;
  }

  // Python's escapes (Jinja2 decodes literals with unicode-escape); an unknown escape is kept.
  // Returns the index of the last character consumed.
  size_t unescape(size_t i, std::string& s) const {
    const char e = src_[i + 1];
    static const std::string_view from = "\\'\"ntrbfva", to = "\\'\"\n\t\r\b\f\v\a";
    if (const size_t k = from.find(e); k != std::string_view::npos) {
      s.push_back(to[k]);
      return i + 1;
    }
    if (e == '\n') return i + 1;
    const int hex = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
    if (hex && i + 1 + hex < src_.size()) {
      const std::string h = src_.substr(i + 2, size_t(hex));
      if (std::all_of(h.begin(), h.end(), [](char c) { return std::isxdigit(uint8_t(c)); })) {
        utf8_append(s, char32_t(std::stoul(h, nullptr, 16)));
        return i + 1 + size_t(hex);
      }
    }
    if (e >= '0' && e <= '7') {
      size_t j = i + 1;
      unsigned v = 0;
      for (int n = 0; n < 3 && j < src_.size() && src_[j] >= '0' && src_[j] <= '7'; ++n, ++j)
        v = v * 8 + unsigned(src_[j] - '0');
      utf8_append(s, char32_t(v));
      return j - 1;
    }
    s.push_back('\\');
    return i;
  }

  Token make(Tok kind, std::string text, size_t offset) const {
    Token t{kind, std::move(text)};
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    t.line = int(it - line_starts_.begin());
    t.column = int(offset - *(it - 1)) + 1;
    return t;
  }

  void emit_text(std::string text, size_t offset) {
    if (!text.empty()) out_.push_back(make(Tok::Text, std::move(text), offset));
  }

  [[noreturn]] void fail_at(size_t offset, const std::string& what) const {
    const Token t = make(Tok::End, "", offset);
    fail("chat template ", where(t.line, t.column), ": ", what);
  }

  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  return Lexer(source).run();
}

}  // namespace llmpipe::chat
