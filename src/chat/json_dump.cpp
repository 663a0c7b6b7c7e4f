// to_json: Python's json.dumps, the function transformers' tojson filter calls (not Jinja2's
// own tojson, which sorts keys and HTML-escapes < > & '). Spacing and escapes must be exact:
// the dump lands in the prompt.
#include <cmath>
#include <cstdio>

#include "chat/utf8.h"
#include "chat/value.h"
#include "core/error.h"

namespace llmpipe::chat {

namespace {

void escape_u(std::string& out, unsigned c) {
  char b[16];
  std::snprintf(b, sizeof b, "\\u%04x", c & 0xFFFFu);
  out += b;
}

void dump_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (char32_t c : utf8_decode(s)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          escape_u(out, c);
        } else if (ensure_ascii && c >= 0x7F) {
          if (c >= 0x10000) {  // a UTF-16 surrogate pair, as Python writes it
            escape_u(out, 0xD800 + ((c - 0x10000) >> 10));
            escape_u(out, 0xDC00 + ((c - 0x10000) & 0x3FF));
          } else if (c > 0x7F) {
            escape_u(out, c);
          } else {
            out += char(c);
          }
        } else {
          utf8_append(out, c);
        }
    }
  }
  out += '"';
}

void dump(std::string& out, const Value& v, int indent, bool ascii, int depth) {
  const auto newline = [&](int d) {
    if (indent < 0) return;
    out += '\n';
    out.append(size_t(indent) * size_t(d), ' ');
  };
  const char* item_sep = indent < 0 ? ", " : ",";
  switch (v.kind()) {
    case Value::Kind::None:
      out += "null";
      return;
    case Value::Kind::Bool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Kind::Int:
      out += std::to_string(v.as_int());
      return;
    case Value::Kind::Float: {
      const double f = v.as_float();
      out += std::isnan(f)   ? "NaN"
             : std::isinf(f) ? (f < 0 ? "-Infinity" : "Infinity")
                             : float_repr(f);
      return;
    }
    case Value::Kind::String:
      dump_string(out, v.as_string(), ascii);
      return;
    case Value::Kind::List: {
      const List& l = v.as_list();
      if (l.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < l.size(); ++i) {
        if (i) out += item_sep;
        newline(depth + 1);
        dump(out, l[i], indent, ascii, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::Dict: {
      const Dict& d = v.as_dict();
      if (d.is_namespace) fail("Object of type Namespace is not JSON serializable");
      if (d.items.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (size_t i = 0; i < d.items.size(); ++i) {
        if (i) out += item_sep;
        newline(depth + 1);
        dump_string(out, d.items[i].first, ascii);
        out += ": ";
        dump(out, d.items[i].second, indent, ascii, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    case Value::Kind::Undefined:
      fail("Object of type Undefined is not JSON serializable",
           v.undefined_hint().empty() ? "" : " (" + v.undefined_hint() + ")");
    case Value::Kind::Function:
      fail("Object of type function is not JSON serializable");
  }
}

}  // namespace

std::string to_json(const Value& v, int indent, bool ensure_ascii) {
  std::string out;
  dump(out, v, indent, ensure_ascii, 0);
  return out;
}

}  // namespace llmpipe::chat
