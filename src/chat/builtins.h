// What a template can call: filters (`x | trim`), tests (`x is string`), methods of strings and
// dicts (`s.strip()`, `d.get(k)`) and global functions (`raise_exception`, `strftime_now`,
// `namespace`, `range`). An unknown name is an Error that says it is not supported.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "chat/value.h"

namespace llmpipe::chat {

// raise_exception(msg) in a template: the template refuses the conversation.
class TemplateRaised : public std::runtime_error {
 public:
  explicit TemplateRaised(const std::string& message) : std::runtime_error(message) {}
};

Value apply_filter(std::string_view name, const Value& subject, Args& args);
bool apply_test(std::string_view name, const Value& subject, Args& args);

// obj.name where obj is a str or dict and name one of its methods: the bound method.
std::optional<Value> bound_method(const Value& obj, const std::string& name);

// The globals every template sees; strftime_now formats `now` (local time).
void add_globals(Dict& globals, const std::tm& now);

// Python semantics shared by filters and the evaluator.
Value get_attribute(const Value& obj, const std::string& name);  // jinja2's getattr
Value get_item(const Value& obj, const Value& key);              // jinja2's getitem
List iterate(const Value& v);  // for x in v: list items, dict keys, str code points
int64_t length(const Value& v);
bool contains(const Value& container, const Value& item);  // Python `in`

// str.lower/upper/capitalize/title (mode 0..3; ASCII letters only) and str.strip/lstrip/rstrip.
std::string py_case(const std::string& s, int mode);
std::string py_strip(const std::string& s, const std::optional<Value>& chars, bool left,
                     bool right);

// Positional-or-keyword argument i (name), or nullopt.
std::optional<Value> arg(Args& args, size_t i, std::string_view name);

}  // namespace llmpipe::chat
