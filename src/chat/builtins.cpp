// Filters, tests and the lookups they share, as Jinja2 3.1 defines them (with transformers'
// tojson).
#include "chat/builtins.h"

#include <algorithm>
#include <cctype>

#include "chat/utf8.h"
#include "core/error.h"

namespace llmpipe::chat {

std::optional<Value> arg(Args& args, size_t i, std::string_view name) {
  if (i < args.pos.size()) return args.pos[i];
  for (const auto& [k, v] : args.kw)
    if (k == name) return v;
  return std::nullopt;
}

Value get_attribute(const Value& obj, const std::string& name) {
  if (obj.is_undefined())
    fail(obj.undefined_hint().empty() ? "undefined" : obj.undefined_hint(),
         " (while reading ." + name + ")");
  // Jinja2 tries the Python attribute first: d.items is the method even if d has a key "items".
  if (auto m = bound_method(obj, name)) return *m;
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict().find(name)) return *v;
    return Value::undefined(cat("'", obj.type_name(), " object' has no attribute '", name, "'"));
  }
  if (obj.is_list() && (name == "append" || name == "pop" || name == "insert" || name == "extend" ||
                        name == "remove" || name == "clear" || name == "sort" || name == "reverse"))
    return Value::undefined("list." + name + "() changes a list, which the sandbox forbids");
  return Value::undefined(cat("'", obj.type_name(), " object' has no attribute '", name, "'"));
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined())
    fail(obj.undefined_hint().empty() ? "undefined" : obj.undefined_hint(), " (while reading [",
         key.repr(), "])");
  if (obj.is_dict() && key.is_string()) {
    if (const Value* v = obj.as_dict().find(key.as_string())) return *v;
    return get_attribute(obj, key.as_string());
  }
  if ((obj.is_list() || obj.is_string()) && key.is_int()) {
    const std::u32string s = obj.is_string() ? utf8_decode(obj.as_string()) : std::u32string();
    const auto n = int64_t(obj.is_list() ? obj.as_list().size() : s.size());
    int64_t i = key.as_int() < 0 ? key.as_int() + n : key.as_int();
    if (i < 0 || i >= n) return Value::undefined(cat("index ", key.as_int(), " is out of range"));
    if (obj.is_list()) return obj.as_list()[size_t(i)];
    return Value(utf8_encode(s.substr(size_t(i), 1)));
  }
  if (key.is_string()) return get_attribute(obj, key.as_string());
  return Value::undefined(cat("'", obj.type_name(), " object' has no item ", key.repr()));
}

List iterate(const Value& v) {
  if (v.is_list()) return v.as_list();
  List out;
  if (v.is_dict() && !v.as_dict().is_namespace) {
    for (const auto& kv : v.as_dict().items) out.emplace_back(kv.first);
  } else if (v.is_string()) {
    for (char32_t c : utf8_decode(v.as_string()))
      out.emplace_back(utf8_encode(std::u32string(1, c)));
  } else if (!v.is_undefined()) {
    fail("'", v.type_name(), "' object is not iterable");
  }
  return out;
}

int64_t length(const Value& v) {
  if (v.is_string()) return int64_t(utf8_decode(v.as_string()).size());
  if (v.is_list()) return int64_t(v.as_list().size());
  if (v.is_dict() && !v.as_dict().is_namespace) return int64_t(v.as_dict().items.size());
  if (v.is_undefined()) return 0;
  fail("object of type '", v.type_name(), "' has no len()");
}

bool contains(const Value& container, const Value& item) {
  if (container.is_undefined()) return false;
  if (container.is_string()) {
    if (!item.is_string())
      fail("'in <string>' requires string as left operand, not ", item.type_name());
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_list())
    return std::any_of(container.as_list().begin(), container.as_list().end(),
                       [&](const Value& x) { return equal(x, item); });
  if (container.is_dict() && !container.as_dict().is_namespace)
    return item.is_string() && container.as_dict().find(item.as_string()) != nullptr;
  fail("argument of type '", container.type_name(), "' is not iterable");
}

namespace {

std::string strip_text(const std::string& s, const std::optional<Value>& chars, bool left,
                       bool right) {
  const std::u32string t = utf8_decode(s);
  const std::u32string set =
      chars && chars->is_string() ? utf8_decode(chars->as_string()) : std::u32string();
  const bool by_space = !chars || chars->is_none();
  auto strip_me = [&](char32_t c) {
    return by_space ? is_py_space(c) : set.find(c) != std::u32string::npos;
  };
  size_t b = 0, e = t.size();
  while (left && b < e && strip_me(t[b])) ++b;
  while (right && e > b && strip_me(t[e - 1])) --e;
  return utf8_encode(std::u32string_view(t).substr(b, e - b));
}

bool test_one(std::string_view test, const Value& v, Args& rest);

// select/reject/selectattr/rejectattr: keep items whose test (truthiness without one) passes.
Value select(const Value& seq, Args& args, bool by_attr, bool keep_if) {
  const size_t first = by_attr ? 1 : 0;
  if (by_attr && args.pos.empty()) fail("selectattr/rejectattr need an attribute name");
  List out;
  for (const Value& item : iterate(seq)) {
    const Value x = by_attr ? get_attribute(item, args.pos[0].str()) : item;
    bool pass;
    if (args.pos.size() > first) {
      Args rest;
      rest.pos.assign(args.pos.begin() + long(first) + 1, args.pos.end());
      pass = test_one(args.pos[first].str(), x, rest);
    } else {
      pass = x.truthy();
    }
    if (pass == keep_if) out.push_back(item);
  }
  return Value(std::move(out));
}

Value map_filter(const Value& seq, Args& args) {
  List out;
  if (auto attr = arg(args, 99, "attribute")) {
    const std::optional<Value> dflt = arg(args, 99, "default");
    for (const Value& item : iterate(seq)) {
      Value v = get_attribute(item, attr->str());
      out.push_back(v.is_undefined() && dflt ? *dflt : v);
    }
    return Value(std::move(out));
  }
  if (args.pos.empty()) fail("map needs a filter name or attribute=");
  Args rest;
  rest.pos.assign(args.pos.begin() + 1, args.pos.end());
  for (const Value& item : iterate(seq)) out.push_back(apply_filter(args.pos[0].str(), item, rest));
  return Value(std::move(out));
}

Value tojson_filter(const Value& v, Args& args) {
  // transformers: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
  const std::optional<Value> ascii = arg(args, 0, "ensure_ascii"), indent = arg(args, 1, "indent");
  const std::optional<Value> seps = arg(args, 2, "separators"), sort = arg(args, 3, "sort_keys");
  if ((seps && !seps->is_none()) || (sort && sort->truthy()))
    fail("tojson with separators= or sort_keys= is not supported");
  if (indent && !indent->is_none() && !indent->is_int())
    fail("tojson indent must be an integer, not ", indent->type_name());
  const int ind = indent && indent->is_int() ? int(indent->as_int()) : -1;
  return Value(to_json(v, ind, ascii && ascii->truthy()));
}

std::string case_map(const std::string& s, int mode) {  // 0 lower, 1 upper, 2 capitalize, 3 title
  std::string out = s;
  bool prev_cased = false;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool alpha = std::isalpha(uint8_t(c)) != 0;
    bool up = mode == 1 || (mode == 2 && i == 0) || (mode == 3 && !prev_cased);
    out[i] = up ? char(std::toupper(uint8_t(c))) : char(std::tolower(uint8_t(c)));
    prev_cased = alpha;
  }
  return out;
}

}  // namespace

std::string py_case(const std::string& s, int mode) {
  return case_map(s, mode);
}
std::string py_strip(const std::string& s, const std::optional<Value>& chars, bool l, bool r) {
  return strip_text(s, chars, l, r);
}

Value apply_filter(std::string_view name, const Value& v, Args& args) {
  if (name == "trim") return Value(strip_text(v.str(), arg(args, 0, "chars"), true, true));
  if (name == "length" || name == "count") return Value(length(v));
  if (name == "tojson") return tojson_filter(v, args);
  if (name == "string") return Value(v.str());
  if (name == "safe") return v;
  if (name == "upper") return Value(case_map(v.str(), 1));
  if (name == "lower") return Value(case_map(v.str(), 0));
  if (name == "capitalize") return Value(case_map(v.str(), 2));
  if (name == "title") return Value(case_map(v.str(), 3));
  if (name == "list") return Value(iterate(v));
  if (name == "first" || name == "last") {
    const List l = iterate(v);
    if (l.empty())
      return Value::undefined("no " + std::string(name) + " item of an empty sequence");
    return name == "first" ? l.front() : l.back();
  }
  if (name == "default" || name == "d") {
    const std::optional<Value> boolean = arg(args, 1, "boolean");
    const bool use = v.is_undefined() || (boolean && boolean->truthy() && !v.truthy());
    return use ? arg(args, 0, "default_value").value_or(Value("")) : v;
  }
  if (name == "join") {
    const std::optional<Value> attr = arg(args, 1, "attribute");
    std::string out, sep = arg(args, 0, "d").value_or(Value("")).str();
    bool first = true;
    for (const Value& item : iterate(v)) {
      out += (first ? "" : sep) + (attr ? get_attribute(item, attr->str()) : item).str();
      first = false;
    }
    return Value(std::move(out));
  }
  if (name == "replace") {
    const std::string from = arg(args, 0, "old").value_or(Value("")).str();
    const std::string to = arg(args, 1, "new").value_or(Value("")).str();
    const std::optional<Value> count = arg(args, 2, "count");
    Args m;
    m.pos = {Value(from), Value(to)};
    if (count && !count->is_none()) m.pos.push_back(*count);
    return bound_method(Value(v.str()), "replace")->as_function().call(m);
  }
  if (name == "items") {
    if (v.is_undefined()) return Value(List{});
    if (!v.is_dict()) fail("items filter: expected a mapping, got ", v.type_name());
    List out;
    for (const auto& [k, x] : v.as_dict().items) out.emplace_back(List{Value(k), x});
    return Value(std::move(out));
  }
  if (name == "select" || name == "reject") return select(v, args, false, name == "select");
  if (name == "selectattr" || name == "rejectattr")
    return select(v, args, true, name == "selectattr");
  if (name == "map") return map_filter(v, args);
  if (name == "abs") {
    if (!v.is_number()) fail("bad operand type for abs(): '", v.type_name(), "'");
    return v.is_int() ? Value(std::abs(v.as_int())) : Value(std::abs(v.as_float()));
  }
  if (name == "int") {
    if (v.is_number()) return Value(int64_t(v.as_float()));
    try {
      return Value(int64_t(std::stoll(v.str())));
    } catch (const std::exception&) {
      return arg(args, 0, "default").value_or(Value(0));
    }
  }
  fail("the filter '", name, "' is not supported by this renderer");
}

namespace {

bool test_one(std::string_view t, const Value& v, Args& a) {
  auto other = [&] {
    if (a.pos.empty()) fail("the test '", t, "' needs an argument");
    return a.pos[0];
  };
  if (t == "defined") return !v.is_undefined();
  if (t == "undefined") return v.is_undefined();
  if (t == "none") return v.is_none();
  if (t == "string") return v.is_string();
  if (t == "mapping") return v.is_dict() && !v.as_dict().is_namespace;
  if (t == "iterable")
    return v.is_string() || v.is_list() || v.is_undefined() ||
           (v.is_dict() && !v.as_dict().is_namespace);
  if (t == "sequence")
    return v.is_string() || v.is_list() || v.is_undefined() ||
           (v.is_dict() && !v.as_dict().is_namespace);
  if (t == "number") return v.is_number();
  if (t == "integer") return v.kind() == Value::Kind::Int;
  if (t == "float") return v.kind() == Value::Kind::Float;
  if (t == "boolean") return v.is_bool();
  if (t == "true") return v.is_bool() && v.as_bool();
  if (t == "false") return v.is_bool() && !v.as_bool();
  if (t == "callable") return v.is_function();
  if (t == "equalto" || t == "eq" || t == "==") return equal(v, other());
  if (t == "ne" || t == "!=") return !equal(v, other());
  if (t == "lt" || t == "lessthan" || t == "<") return less(v, other());
  if (t == "gt" || t == "greaterthan" || t == ">") return less(other(), v);
  if (t == "le" || t == "<=") return !less(other(), v);
  if (t == "ge" || t == ">=") return !less(v, other());
  if (t == "in") return contains(other(), v);
  if (t == "sameas") return v.same_object(other());
  if (t == "odd" || t == "even" || t == "divisibleby") {
    if (!v.is_int()) fail("the test '", t, "' needs an integer, got ", v.type_name());
    const int64_t d = t == "divisibleby" ? other().as_int() : 2;
    if (d == 0) fail("divisibleby 0");
    const int64_t r = ((v.as_int() % d) + d) % d;
    return t == "odd" ? r == 1 : r == 0;
  }
  if (t == "lower" || t == "upper") {
    // Python's str.islower()/isupper(): at least one cased character, none of the other case.
    const std::string s = v.str();
    const bool cased =
        std::any_of(s.begin(), s.end(), [](char c) { return std::isalpha(uint8_t(c)); });
    return cased && s == case_map(s, t == "upper" ? 1 : 0);
  }
  fail("the test '", t, "' is not supported by this renderer");
}

}  // namespace

bool apply_test(std::string_view name, const Value& v, Args& args) {
  return test_one(name, v, args);
}

}  // namespace llmpipe::chat
