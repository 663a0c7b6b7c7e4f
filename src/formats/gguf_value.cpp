#include <limits>
#include <sstream>

#include "core/error.h"
#include "formats/gguf.h"

namespace llmpipe::gguf {

std::string_view value_type_name(ValueType t) {
  static constexpr std::string_view names[] = {"u8",  "i8",     "u16",   "i16",  "u32",
                                               "i32", "f32",    "bool",  "string", "array",
                                               "u64", "i64",    "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < std::size(names) ? names[i] : "unknown";
}

bool Value::is_integer() const {
  switch (type()) {
    case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
    case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
      return true;
    default:
      return false;
  }
}

bool Value::is_number() const {
  return is_integer() || type() == ValueType::F32 || type() == ValueType::F64;
}

int64_t Value::as_int() const {
  return std::visit(
      [](const auto& x) -> int64_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, uint64_t>) {
          if (x > uint64_t(std::numeric_limits<int64_t>::max())) fail("integer ", x, " too large");
          return int64_t(x);
        } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          return int64_t(x);
        } else {
          fail("metadata value is not an integer");
        }
      },
      v);
}

double Value::as_double() const {
  if (type() == ValueType::F32) return std::get<float>(v);
  if (type() == ValueType::F64) return std::get<double>(v);
  if (type() == ValueType::U64) return double(std::get<uint64_t>(v));  // may exceed int64
  return double(as_int());
}

std::string Value::to_string(size_t max_items) const {
  std::ostringstream os;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          os << '"' << x << '"';
        } else if constexpr (std::is_same_v<T, Array>) {
          os << value_type_name(x.type) << "[" << x.items.size() << "] {";
          for (size_t i = 0; i < x.items.size() && i < max_items; ++i)
            os << (i ? ", " : " ") << x.items[i].to_string(max_items);
          os << (x.items.size() > max_items ? ", ... }" : " }");
        } else if constexpr (std::is_same_v<T, bool>) {
          os << (x ? "true" : "false");
        } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>) {
          os << int(x);
        } else {
          os << x;
        }
      },
      v);
  return os.str();
}

}  // namespace llmpipe::gguf
