// The values a chat template computes with, as Python/Jinja2 has them: undefined, None, bool,
// int, float, str, list, dict (insertion-ordered, string keys), namespace and callables.
// Lists and dicts are shared by reference as in Python, so a namespace changed inside a loop is
// seen after it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmpipe::chat {

class Value;
using List = std::vector<Value>;

struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;  // namespace(): the only object whose attributes `set` may assign

  const Value* find(std::string_view key) const;
  void set(std::string key, Value v);
};

// Arguments of a call, filter or test: positional then keyword, as written.
struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

struct Function {
  std::string name;
  std::function<Value(Args&)> call;
};

class Value {
 public:
  enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

  Value() = default;  // undefined
  Value(bool b) : kind_(Kind::Bool), i_(b) {}
  Value(int v) : Value(int64_t(v)) {}
  Value(int64_t v) : kind_(Kind::Int), i_(v) {}
  Value(double v) : kind_(Kind::Float), f_(v) {}
  Value(std::string s) : kind_(Kind::String), s_(std::move(s)) {}
  Value(const char* s) : Value(std::string(s)) {}
  Value(List l) : kind_(Kind::List), list_(std::make_shared<List>(std::move(l))) {}
  Value(Dict d) : kind_(Kind::Dict), dict_(std::make_shared<Dict>(std::move(d))) {}
  Value(Function f) : kind_(Kind::Function), fn_(std::make_shared<Function>(std::move(f))) {}
  static Value none() {
    Value v;
    v.kind_ = Kind::None;
    return v;
  }
  // An undefined value that remembers what was looked up, for the error when it is used.
  static Value undefined(std::string what) {
    Value v;
    v.s_ = std::move(what);
    return v;
  }

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int || kind_ == Kind::Bool; }  // Python: bool is int
  bool is_number() const { return is_int() || kind_ == Kind::Float; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_function() const { return kind_ == Kind::Function; }

  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return i_; }
  double as_float() const { return kind_ == Kind::Float ? f_ : double(i_); }
  const std::string& as_string() const { return s_; }
  const std::string& undefined_hint() const { return s_; }
  List& as_list() const { return *list_; }
  Dict& as_dict() const { return *dict_; }
  const Function& as_function() const { return *fn_; }
  bool same_object(const Value& o) const;  // Python `is`

  bool truthy() const;
  // str(value): what {{ value }} prints. Undefined prints "" (Jinja2's default Undefined).
  std::string str() const;
  // repr(value) as Python writes it: 'text', [1, 'a'], {'k': None}, True.
  std::string repr() const;
  const char* type_name() const;  // Python's name of the type, for error messages

  template <typename Json>
  static Value from_json(const Json& j);

 private:
  Kind kind_ = Kind::Undefined;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
};

// Python ==, deep for lists and dicts (1 == 1.0 == True).
bool equal(const Value& a, const Value& b);
// Python <: numbers, strings (by code point), lists lexicographically; else an Error.
bool less(const Value& a, const Value& b);

// Python float repr: 0.1, 1.0, 1e-05, 1e+16, inf.
std::string float_repr(double v);

// json.dumps(v, ensure_ascii=..., indent=..., separators=(", ", ": ") or (",", ": ") with an
// indent), as transformers' tojson filter calls it. indent < 0: no newlines.
std::string to_json(const Value& v, int indent, bool ensure_ascii);

template <typename Json>
Value Value::from_json(const Json& j) {
  if (j.is_null()) return none();
  if (j.is_boolean()) return Value(j.template get<bool>());
  if (j.is_number_integer()) return Value(j.template get<int64_t>());
  if (j.is_number()) return Value(j.template get<double>());
  if (j.is_string()) return Value(j.template get<std::string>());
  if (j.is_array()) {
    List l;
    for (const auto& e : j) l.push_back(from_json(e));
    return Value(std::move(l));
  }
  Dict d;
  for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), from_json(it.value()));
  return Value(std::move(d));
}

}  // namespace llmpipe::chat
