// Names of an enum's values for options and config files, from one table per enum: the
// value for a name (an Error listing the accepted names otherwise) and the name of a value.
#pragma once

#include <span>
#include <string>

#include "core/error.h"

namespace llmpipe {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// "a, b or c": the accepted names, for error messages.
template <typename E>
std::string enum_names_list(std::span<const EnumName<E>> table) {
  std::string s;
  for (size_t i = 0; i < table.size(); ++i)
    s += (i == 0 ? "" : i + 1 == table.size() ? " or " : ", ") + std::string(table[i].name);
  return s;
}

// `what` names the setting in the error ("weight placement").
template <typename E>
E enum_from_name(std::span<const EnumName<E>> table, const std::string& name, const char* what) {
  for (const auto& e : table)
    if (name == e.name) return e.value;
  fail("unknown ", what, " '", name, "': use ", enum_names_list(table));
}

template <typename E>
const char* enum_name(std::span<const EnumName<E>> table, E value) {
  for (const auto& e : table)
    if (e.value == value) return e.name;
  return "?";
}

}  // namespace llmpipe
