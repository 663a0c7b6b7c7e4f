#include "formats/hf/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace llmpipe::hf {

using nlohmann::json;

namespace {

struct StDType {
  const char* name;
  int64_t size;
  std::optional<DType> dtype;
};
// Every dtype of the spec, so that sizes are checked even for those we do not load.
constexpr StDType kDTypes[] = {
    {"F32", 4, DType::F32},  {"F16", 2, DType::F16},     {"BF16", 2, DType::BF16},
    {"F64", 8, std::nullopt}, {"I64", 8, std::nullopt},  {"U64", 8, std::nullopt},
    {"I32", 4, std::nullopt}, {"U32", 4, std::nullopt},  {"I16", 2, std::nullopt},
    {"U16", 2, std::nullopt}, {"I8", 1, std::nullopt},   {"U8", 1, std::nullopt},
    {"BOOL", 1, std::nullopt}, {"F8_E5M2", 1, std::nullopt}, {"F8_E4M3", 1, std::nullopt},
};

const StDType* find_dtype(const std::string& name) {
  for (const auto& d : kDTypes)
    if (name == d.name) return &d;
  return nullptr;
}

uint64_t as_u64(const json& v, const std::string& file, const std::string& tensor,
                const char* field) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    fail(file, ": tensor ", tensor, ": ", field, " holds ", v.dump(), ", not a non-negative integer");
  return v.get<uint64_t>();
}

}  // namespace

SafetensorsHeader parse_safetensors_header(std::span<const uint8_t> bytes, uint64_t data_start,
                                           uint64_t data_size, const std::string& file) {
  json root;
  try {
    root = json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    fail(file, ": safetensors header is not valid JSON: ", e.what());
  }
  if (!root.is_object()) fail(file, ": safetensors header is not a JSON object");
  SafetensorsHeader h;
  for (const auto& [name, entry] : root.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(file, ": __metadata__ is not a JSON object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) fail(file, ": __metadata__ value of ", k, " is not a string");
        h.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object()) fail(file, ": tensor ", name, ": entry is not a JSON object");
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(field)) fail(file, ": tensor ", name, ": missing field ", field);
    const json& jd = entry["dtype"];
    const json& js = entry["shape"];
    const json& jo = entry["data_offsets"];
    if (!jd.is_string()) fail(file, ": tensor ", name, ": dtype is not a string");
    if (!js.is_array()) fail(file, ": tensor ", name, ": shape is not an array");
    if (!jo.is_array() || jo.size() != 2)
      fail(file, ": tensor ", name, ": data_offsets is not an array [begin, end]");
    CheckpointTensor t;
    t.name = name;
    t.dtype_name = jd.get<std::string>();
    const StDType* d = find_dtype(t.dtype_name);
    if (!d) fail(file, ": tensor ", name, ": unknown dtype ", t.dtype_name);
    t.dtype = d->dtype;
    if (js.size() > 8) fail(file, ": tensor ", name, ": ", js.size(), " dimensions (at most 8)");
    for (const auto& dim : js) {
      const uint64_t v = as_u64(dim, file, name, "shape");
      if (v > (uint64_t(1) << 62)) fail(file, ": tensor ", name, ": dimension ", v, " is absurd");
      t.shape.push_back(int64_t(v));
    }
    const uint64_t begin = as_u64(jo[0], file, name, "data_offsets");
    const uint64_t end = as_u64(jo[1], file, name, "data_offsets");
    if (begin > end || end > data_size)
      fail(file, ": tensor ", name, ": data_offsets [", begin, ", ", end,
           "] lie outside the data region of ", data_size, " bytes");
    const int64_t n = checked_elements(t.shape, file + ": tensor " + name);
    if (uint64_t(n) > (uint64_t(1) << 62) / uint64_t(d->size))
      fail(file, ": tensor ", name, ": too many bytes");
    const uint64_t expected = uint64_t(n) * uint64_t(d->size);
    if (end - begin != expected)
      fail(file, ": tensor ", name, ": data_offsets [", begin, ", ", end, "] span ", end - begin,
           " bytes but ", t.dtype_name, " x ", n, " elements need ", expected);
    t.file = file;
    t.offset = data_start + begin;
    t.bytes = expected;
    h.tensors.push_back(std::move(t));
  }
  std::sort(h.tensors.begin(), h.tensors.end(),
            [](const auto& a, const auto& b) { return a.offset < b.offset || (a.offset == b.offset && a.bytes < b.bytes); });
  uint64_t pos = data_start;
  for (const auto& t : h.tensors) {
    if (t.offset < pos)
      fail(file, ": tensor ", t.name, " at data offset ", t.offset - data_start,
           " overlaps the tensor before it (which ends at ", pos - data_start, ")");
    if (t.offset > pos)
      fail(file, ": hole of ", t.offset - pos, " bytes before tensor ", t.name,
           " (the data region must be fully indexed)");
    pos = t.offset + t.bytes;
  }
  if (pos - data_start != data_size)
    fail(file, ": tensors cover ", pos - data_start, " bytes but the data region holds ", data_size);
  return h;
}

SafetensorsHeader read_safetensors(const std::string& path) {
  const uint64_t size = file_size_of(path);
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open ", path);
  uint8_t len_bytes[8];
  if (size < 8 || !f.read(reinterpret_cast<char*>(len_bytes), 8))
    fail(path, ": ", size, " bytes is too short for a safetensors file (8-byte header length)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  if (n > kMaxSafetensorsHeader)
    fail(path, ": safetensors header length ", n, " exceeds the limit of ", kMaxSafetensorsHeader);
  if (n > size - 8)
    fail(path, ": safetensors header length ", n, " exceeds the file size (", size,
         " bytes); the file is truncated or not safetensors");
  std::vector<uint8_t> header(n);
  if (!f.read(reinterpret_cast<char*>(header.data()), std::streamsize(n)))
    fail(path, ": cannot read the ", n, "-byte safetensors header");
  return parse_safetensors_header(header, 8 + n, size - 8 - n, path);
}

}  // namespace llmpipe::hf
