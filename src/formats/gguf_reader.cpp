#include "formats/gguf_reader.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

#include "core/error.h"

namespace llmpipe::gguf {

namespace {

// Limits that no real model reaches; beyond them a count is corrupt, not large.
constexpr uint64_t kMaxTensors = 1u << 20;
constexpr uint64_t kMaxKeyValues = 1u << 20;
constexpr uint64_t kMaxStringBytes = 1u << 30;
constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayDepth = 4;

// Sequential reader of the header with every read checked against the file size.
class HeaderStream {
 public:
  explicit HeaderStream(const std::string& path)
      : path_(path), size_(file_size_of(path)), f_(std::fopen(path.c_str(), "rb"), &std::fclose) {
    if (!f_) fail("cannot open ", path);
  }

  uint64_t pos() const { return pos_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

  void read(void* dst, uint64_t n, const char* what) {
    if (n > size_ - pos_)
      fail(path_, ": file is truncated: reading ", what, " at byte ", pos_, " needs ", n,
           " bytes but only ", size_ - pos_, " remain");
    if (n && std::fread(dst, 1, n, f_.get()) != n) fail(path_, ": read error at byte ", pos_);
    pos_ += n;
  }
  template <typename T>
  T get(const char* what) {
    T v;
    read(&v, sizeof v, what);
    return v;
  }
  std::string string(const char* what) {
    const uint64_t n = get<uint64_t>(what);
    if (n > kMaxStringBytes || n > size_ - pos_)
      fail(path_, ": corrupt ", what, " at byte ", pos_ - 8, ": string length ", n,
           " exceeds the file");
    std::string s(n, '\0');
    read(s.data(), n, what);
    return s;
  }

 private:
  std::string path_;
  uint64_t size_;
  std::unique_ptr<FILE, int (*)(FILE*)> f_;
  uint64_t pos_ = 0;
};

Value read_value(HeaderStream& in, ValueType type, const std::string& key, int depth);

// Fewest bytes one value of type t takes in the file (a string's or array's length prefix).
uint64_t min_encoded_bytes(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::Bool: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: case ValueType::String: return 8;
    case ValueType::Array: return 12;  // element type + length
  }
  return 1;
}

Array read_array(HeaderStream& in, const std::string& key, int depth) {
  if (depth > kMaxArrayDepth)
    fail(in.path(), ": metadata key ", key, ": arrays nested too deeply (more than ",
         kMaxArrayDepth + 1, " levels)");
  Array a;
  const auto raw_type = in.get<uint32_t>("array type");
  if (raw_type > uint32_t(ValueType::F64))
    fail(in.path(), ": metadata key ", key, ": unknown array element type ", raw_type);
  a.type = ValueType(raw_type);
  const uint64_t n = in.get<uint64_t>("array length");
  // Each element takes at least min_encoded_bytes in the file: a larger count is corrupt.
  const uint64_t remaining = in.size() - in.pos();
  if (n > remaining / min_encoded_bytes(a.type))
    fail(in.path(), ": metadata key ", key, ": array length ", n, " of ",
         value_type_name(a.type), " exceeds the ", remaining, " bytes left in the file");
  // Reserve a bounded amount: a Value is much larger than its encoding, so reserving n could
  // still ask for many times the file size; reads past this grow the vector as data arrives.
  a.items.reserve(size_t(std::min<uint64_t>(n, 4096)));
  for (uint64_t i = 0; i < n; ++i) a.items.push_back(read_value(in, a.type, key, depth + 1));
  return a;
}

Value read_value(HeaderStream& in, ValueType type, const std::string& key, int depth) {
  switch (type) {
    case ValueType::U8: return {in.get<uint8_t>("u8")};
    case ValueType::I8: return {in.get<int8_t>("i8")};
    case ValueType::U16: return {in.get<uint16_t>("u16")};
    case ValueType::I16: return {in.get<int16_t>("i16")};
    case ValueType::U32: return {in.get<uint32_t>("u32")};
    case ValueType::I32: return {in.get<int32_t>("i32")};
    case ValueType::F32: return {in.get<float>("f32")};
    case ValueType::Bool: {
      const auto b = in.get<uint8_t>("bool");
      if (b > 1)
        fail(in.path(), ": metadata key ", key, ": bool value ", int(b), " is neither 0 nor 1");
      return {b == 1};
    }
    case ValueType::String: return {in.string("string value")};
    case ValueType::Array: return {read_array(in, key, depth)};
    case ValueType::U64: return {in.get<uint64_t>("u64")};
    case ValueType::I64: return {in.get<int64_t>("i64")};
    case ValueType::F64: return {in.get<double>("f64")};
  }
  fail(in.path(), ": metadata key ", key, ": unknown value type ", uint32_t(type));
}

TensorInfo read_tensor_info(HeaderStream& in, const std::string& path) {
  TensorInfo t;
  t.name = in.string("tensor name");
  const auto n_dims = in.get<uint32_t>("tensor dimension count");
  if (n_dims == 0 || n_dims > kMaxDims)
    fail(path, ": tensor ", t.name, " has ", n_dims, " dimensions (expected 1 to ", kMaxDims, ")");
  int64_t elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const auto ne = in.get<int64_t>("tensor dimension");
    // 2^40 elements per dimension and 2^42 in all are far beyond any model and keep the
    // byte-size arithmetic below from overflowing.
    if (ne <= 0 || ne > (int64_t(1) << 40))
      fail(path, ": tensor ", t.name, " has an absurd dimension ", ne);
    // Checked before multiplying: elements * ne could overflow int64 (2^42 * 2^40).
    if (elements > (int64_t(1) << 42) / ne)
      fail(path, ": tensor ", t.name, " has an absurd element count (more than 2^42)");
    elements *= ne;
    t.shape.push_back(ne);
  }
  const auto ggml_type = in.get<uint32_t>("tensor type");
  const auto dtype = dtype_from_ggml(ggml_type);
  if (!dtype)
    fail(path, ": unsupported tensor type ", ggml_type_name(ggml_type), " (ggml type ", ggml_type,
         ") for tensor ", t.name, "; supported: ", supported_ggml_type_names());
  t.dtype = *dtype;
  if (t.shape[0] % dtype_block_size(t.dtype) != 0)
    fail(path, ": tensor ", t.name, " of type ", dtype_name(t.dtype), " has a row of ", t.shape[0],
         " elements, not a multiple of the block size ", dtype_block_size(t.dtype));
  t.bytes = dtype_row_bytes(t.dtype, t.shape[0]) * uint64_t(elements / t.shape[0]);
  t.offset = in.get<uint64_t>("tensor offset");  // relative for now
  return t;
}

// Each tensor's data, as long as its type and shape make it, must end before the next tensor's
// begins: a type or shape that lies about the data (a Q8_0 tensor labelled Q4_K, a row count too
// large) shows as an overlap, and would otherwise read the neighbour's bytes as weights.
void check_no_overlap(const std::vector<TensorInfo>& tensors, const std::string& path) {
  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& a = *by_offset[i - 1];
    const TensorInfo& b = *by_offset[i];
    if (a.offset + a.bytes > b.offset)
      fail(path, ": tensor ", a.name, " (", dtype_name(a.dtype), ", ", a.shape_string(), ": ",
           a.bytes, " bytes) at data [", a.offset, ", ", a.offset + a.bytes,
           ") overlaps tensor ", b.name, " (", dtype_name(b.dtype), ", ", b.shape_string(),
           ") at [", b.offset, ", ", b.offset + b.bytes, "); the first tensor's type or shape "
           "does not match its data (corrupt or mislabelled file)");
  }
}

}  // namespace

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

int64_t TensorInfo::rows() const { return shape.empty() ? 1 : n_elements() / shape[0]; }

std::string TensorInfo::shape_string() const {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

Reader Reader::open(const std::string& path) {
  Reader r;
  r.path_ = path;
  HeaderStream in(path);
  r.file_size_ = in.size();
  if (in.size() < 4) fail(path, ": not a GGUF file (", in.size(), " bytes)");
  const auto magic = in.get<uint32_t>("magic");
  if (magic != kMagic) fail(path, ": not a GGUF file (bad magic)");
  r.version_ = in.get<uint32_t>("version");
  if (r.version_ != 2 && r.version_ != 3)
    fail(path, ": unsupported GGUF version ", r.version_, " (supported: 2 and 3)");
  const auto n_tensors = in.get<uint64_t>("tensor count");
  const auto n_kv = in.get<uint64_t>("metadata count");
  if (n_tensors > kMaxTensors) fail(path, ": absurd tensor count ", n_tensors);
  if (n_kv > kMaxKeyValues) fail(path, ": absurd metadata count ", n_kv);

  for (uint64_t i = 0; i < n_kv; ++i) {
    KeyValue kv;
    kv.key = in.string("metadata key");
    const auto type = in.get<uint32_t>("metadata value type");
    if (type > uint32_t(ValueType::F64))
      fail(path, ": metadata key ", kv.key, " has unknown value type ", type);
    kv.value = read_value(in, ValueType(type), kv.key, 0);
    if (r.find(kv.key)) fail(path, ": duplicate metadata key ", kv.key);
    r.metadata_.push_back(std::move(kv));
  }

  if (const auto a = r.get_int("general.alignment")) {
    if (*a <= 0 || (*a & (*a - 1)) != 0)
      fail(path, ": general.alignment = ", *a, " is not a power of two");
    if (*a > (1 << 20))
      fail(path, ": general.alignment = ", *a, " is absurdly large (more than ", 1 << 20, ")");
    r.alignment_ = uint64_t(*a);
  }

  for (uint64_t i = 0; i < n_tensors; ++i) {
    r.tensors_.push_back(read_tensor_info(in, path));
    if (!r.tensor_index_.emplace(r.tensors_.back().name, r.tensors_.size() - 1).second)
      fail(path, ": duplicate tensor ", r.tensors_.back().name);
  }
  r.data_offset_ = (in.pos() + r.alignment_ - 1) / r.alignment_ * r.alignment_;

  for (auto& t : r.tensors_) {
    if (t.offset % r.alignment_ != 0)
      fail(path, ": tensor ", t.name, " data offset ", t.offset, " is not aligned to ",
           r.alignment_);
    if (t.offset > r.file_size_ || r.data_offset_ > r.file_size_ - t.offset ||
        t.bytes > r.file_size_ - r.data_offset_ - t.offset)
      fail(path, ": tensor ", t.name, " data [", r.data_offset_ + t.offset, ", ",
           r.data_offset_ + t.offset + t.bytes, ") lies past the end of the file (",
           r.file_size_, " bytes); the file is truncated or corrupt");
    t.offset += r.data_offset_;
  }
  check_no_overlap(r.tensors_, path);
  return r;
}

const Value* Reader::find(std::string_view key) const {
  for (const auto& kv : metadata_)
    if (kv.key == key) return &kv.value;
  return nullptr;
}

namespace {
[[noreturn]] void wrong_type(const std::string& path, std::string_view key, const Value& v,
                             const char* expected) {
  fail(path, ": metadata key ", key, " should be ", expected, " but is ",
       value_type_name(v.type()));
}
}  // namespace

std::optional<int64_t> Reader::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer()) wrong_type(path_, key, *v, "an integer");
  if (const auto* u = std::get_if<uint64_t>(&v->v); u && *u > uint64_t(INT64_MAX))
    fail(path_, ": metadata key ", key, " = ", *u, " is too large (more than 2^63 - 1)");
  return v->as_int();
}

std::optional<double> Reader::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) wrong_type(path_, key, *v, "a number");
  return v->as_double();
}

std::optional<bool> Reader::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type() != ValueType::Bool) wrong_type(path_, key, *v, "a bool");
  return std::get<bool>(v->v);
}

std::optional<std::string> Reader::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type() != ValueType::String) wrong_type(path_, key, *v, "a string");
  return std::get<std::string>(v->v);
}

const Array* Reader::get_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return nullptr;
  if (v->type() != ValueType::Array) wrong_type(path_, key, *v, "an array");
  return &std::get<Array>(v->v);
}

const TensorInfo* Reader::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

MappedRegion Reader::map_tensor(const TensorInfo& t) const {
  return MappedRegion(path_, t.offset, t.bytes);
}

}  // namespace llmpipe::gguf
