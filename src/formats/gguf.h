// GGUF (versions 2 and 3): the metadata model shared by the reader and the writer.
// Format facts: little-endian; header = magic "GGUF", u32 version, u64 tensor count,
// u64 metadata count; then key/value pairs, tensor infos, padding to `general.alignment`
// (default 32) and tensor data. Tensor offsets are relative to the start of the data section.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace llmpipe::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian u32
inline constexpr uint32_t kDefaultAlignment = 32;

enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
std::string_view value_type_name(ValueType t);

struct Value;
struct Array {
  ValueType type = ValueType::U8;  // element type
  std::vector<Value> items;
};

// One metadata value. Integers keep their GGUF type so a file can be written back unchanged.
struct Value {
  std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string,
               Array, uint64_t, int64_t, double>
      v;

  ValueType type() const { return static_cast<ValueType>(v.index()); }
  bool is_integer() const;
  bool is_number() const;  // integer or float
  int64_t as_int() const;  // precondition: is_integer() (u64 above INT64_MAX is an error)
  double as_double() const;  // precondition: is_number()
  std::string to_string(size_t max_items = 8) const;  // for `llmpipe info`
};

struct KeyValue {
  std::string key;
  Value value;
};

}  // namespace llmpipe::gguf
