// Methods of str and dict as Python has them (what templates call: s.strip(), s.split(sep),
// d.get(k), d.items()), and the global functions.
#include <cstdio>

#include "chat/builtins.h"
#include "core/error.h"

namespace llmpipe::chat {

namespace {

std::string string_arg(Args& a, size_t i, const char* name, const char* method) {
  const std::optional<Value> v = arg(a, i, name);
  if (!v || !v->is_string())
    fail("str.", method, "() needs a string argument '", name, "'", v ? ", got " : "",
         v ? v->type_name() : "");
  return v->as_string();
}

List split(const std::string& s, const std::optional<Value>& sep, int64_t maxsplit) {
  List out;
  if (!sep || sep->is_none()) {  // runs of whitespace, no empty pieces
    const std::string t = py_strip(s, std::nullopt, true, false);
    size_t i = 0;
    while (i < t.size()) {
      size_t j = i;
      while (j < t.size() && !std::isspace(uint8_t(t[j]))) ++j;
      if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) j = t.size();
      out.emplace_back(t.substr(i, j - i));
      i = j;
      while (i < t.size() && std::isspace(uint8_t(t[i]))) ++i;
      if (maxsplit >= 0 && int64_t(out.size()) == maxsplit && i < t.size()) {
        out.emplace_back(py_strip(t.substr(i), std::nullopt, false, true));
        break;
      }
    }
    return out;
  }
  const std::string& d = sep->as_string();
  if (d.empty()) fail("str.split(): empty separator");
  size_t i = 0;
  for (size_t j; (j = s.find(d, i)) != std::string::npos;) {
    if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) break;
    out.emplace_back(s.substr(i, j - i));
    i = j + d.size();
  }
  out.emplace_back(s.substr(i));
  return out;
}

bool affix(const std::string& s, const Value& what, bool prefix) {
  List options = what.is_list() ? what.as_list() : List{what};
  for (const Value& o : options) {
    if (!o.is_string())
      fail(prefix ? "startswith" : "endswith", "() needs strings, got ", o.type_name());
    const std::string& p = o.as_string();
    if (p.size() <= s.size() && s.compare(prefix ? 0 : s.size() - p.size(), p.size(), p) == 0)
      return true;
  }
  return false;
}

Value string_method(const std::string& s, const std::string& m, Args& a) {
  if (m == "strip" || m == "lstrip" || m == "rstrip")
    return Value(py_strip(s, arg(a, 0, "chars"), m != "rstrip", m != "lstrip"));
  if (m == "lower") return Value(py_case(s, 0));
  if (m == "upper") return Value(py_case(s, 1));
  if (m == "capitalize") return Value(py_case(s, 2));
  if (m == "title") return Value(py_case(s, 3));
  if (m == "split") {
    const std::optional<Value> n = arg(a, 1, "maxsplit");
    return Value(split(s, arg(a, 0, "sep"), n && n->is_int() ? n->as_int() : -1));
  }
  if (m == "startswith" || m == "endswith") {
    const std::optional<Value> p = arg(a, 0, "prefix");
    if (!p) fail(m, "() needs an argument");
    return Value(affix(s, *p, m == "startswith"));
  }
  if (m == "replace") {
    const std::string from = string_arg(a, 0, "old", "replace"),
                      to = string_arg(a, 1, "new", "replace");
    const std::optional<Value> c = arg(a, 2, "count");
    int64_t left = c && c->is_int() ? c->as_int() : -1;
    std::string out;
    size_t i = 0;
    if (from.empty()) fail("str.replace() with an empty pattern is not supported");
    for (size_t j; left != 0 && (j = s.find(from, i)) != std::string::npos; --left) {
      out += s.substr(i, j - i) + to;
      i = j + from.size();
    }
    return Value(out + s.substr(i));
  }
  if (m == "find") {
    const size_t p = s.find(string_arg(a, 0, "sub", "find"));
    return Value(p == std::string::npos ? int64_t(-1) : int64_t(p));
  }
  if (m == "count") {
    const std::string sub = string_arg(a, 0, "sub", "count");
    int64_t n = 0;
    for (size_t i = s.find(sub); !sub.empty() && i != std::string::npos;
         i = s.find(sub, i + sub.size()))
      ++n;
    return Value(n);
  }
  fail("str.", m, "() is not supported by this renderer");
}

Value dict_method(const Value& d, const std::string& m, Args& a) {
  const Dict& dict = d.as_dict();
  if (m == "get") {
    const std::optional<Value> key = arg(a, 0, "key");
    if (!key) fail("dict.get() needs a key");
    const Value* v = key->is_string() ? dict.find(key->as_string()) : nullptr;
    return v ? *v : arg(a, 1, "default").value_or(Value::none());
  }
  List out;
  for (const auto& [k, v] : dict.items) {
    if (m == "items") out.emplace_back(List{Value(k), v});
    if (m == "keys") out.emplace_back(k);
    if (m == "values") out.push_back(v);
  }
  return Value(std::move(out));
}

bool is_string_method(const std::string& m) {
  static const char* const names[] = {"strip",      "lstrip", "rstrip", "lower",      "upper",
                                      "capitalize", "title",  "split",  "startswith", "endswith",
                                      "replace",    "find",   "count"};
  for (const char* n : names)
    if (m == n) return true;
  return false;
}

}  // namespace

std::optional<Value> bound_method(const Value& obj, const std::string& name) {
  if (obj.is_string() && is_string_method(name)) {
    std::string s = obj.as_string();
    return Value(Function{"str." + name, [s, name](Args& a) { return string_method(s, name, a); }});
  }
  if (obj.is_dict() && !obj.as_dict().is_namespace &&
      (name == "get" || name == "items" || name == "keys" || name == "values"))
    return Value(
        Function{"dict." + name, [obj, name](Args& a) { return dict_method(obj, name, a); }});
  return std::nullopt;
}

void add_globals(Dict& g, const std::tm& now) {
  g.set("raise_exception",
        Value(Function{"raise_exception", [](Args& a) -> Value {
                         throw TemplateRaised(a.pos.empty() ? "" : a.pos[0].str());
                       }}));
  g.set("strftime_now", Value(Function{"strftime_now", [now](Args& a) {
                                         const std::optional<Value> f = arg(a, 0, "format");
                                         if (!f || !f->is_string())
                                           fail("strftime_now() needs a format string");
                                         char buf[512];
                                         const size_t n = std::strftime(
                                             buf, sizeof buf, f->as_string().c_str(), &now);
                                         return Value(std::string(buf, n));
                                       }}));
  g.set("namespace", Value(Function{"namespace", [](Args& a) {
                                      Dict d;
                                      d.is_namespace = true;
                                      for (const Value& p : a.pos) {
                                        if (!p.is_dict())
                                          fail("namespace() takes a dict or keyword arguments");
                                        for (const auto& [k, v] : p.as_dict().items) d.set(k, v);
                                      }
                                      for (auto& [k, v] : a.kw) d.set(k, v);
                                      return Value(std::move(d));
                                    }}));
  g.set("range", Value(Function{"range", [](Args& a) {
                                  for (const Value& p : a.pos)
                                    if (!p.is_int())
                                      fail("range() needs integers, got ", p.type_name());
                                  if (a.pos.empty() || a.pos.size() > 3)
                                    fail("range() takes 1 to 3 integers");
                                  const int64_t start = a.pos.size() > 1 ? a.pos[0].as_int() : 0;
                                  const int64_t stop =
                                      a.pos.size() > 1 ? a.pos[1].as_int() : a.pos[0].as_int();
                                  const int64_t step = a.pos.size() > 2 ? a.pos[2].as_int() : 1;
                                  if (step == 0) fail("range() step must not be zero");
                                  List out;
                                  for (int64_t i = start; step > 0 ? i < stop : i > stop;
                                       i += step) {
                                    if (out.size() >= 100000)
                                      fail("range() longer than 100000 items");
                                    out.emplace_back(i);
                                  }
                                  return Value(std::move(out));
                                }}));
}

}  // namespace llmpipe::chat
