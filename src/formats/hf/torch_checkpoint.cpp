#include "formats/hf/torch_checkpoint.h"

#include <algorithm>

#include "core/error.h"
#include "formats/hf/pickle.h"
#include "formats/hf/zip_archive.h"
#include "formats/tensor_source.h"

namespace llmpipe::hf {

namespace {

struct StorageType {
  std::string_view name;
  int64_t size;
  std::optional<DType> dtype;
};
constexpr StorageType kStorage[] = {
    {"FloatStorage", 4, DType::F32},    {"HalfStorage", 2, DType::F16},
    {"BFloat16Storage", 2, DType::BF16}, {"DoubleStorage", 8, std::nullopt},
    {"LongStorage", 8, std::nullopt},   {"IntStorage", 4, std::nullopt},
    {"ShortStorage", 2, std::nullopt},  {"CharStorage", 1, std::nullopt},
    {"ByteStorage", 1, std::nullopt},   {"BoolStorage", 1, std::nullopt},
};

const StorageType& storage_type(const std::string& name, const std::string& what) {
  for (const auto& s : kStorage)
    if (s.name == name) return s;
  fail(what, ": unknown storage type ", name);
}

// <prefix>/data.pkl: torch names the prefix after the file's stem, but any name is accepted.
const ZipEntry& find_pickle(const ZipArchive& z) {
  const ZipEntry* found = nullptr;
  for (const auto& e : z.entries()) {
    const auto slash = e.name.find('/');
    if (slash != std::string::npos && e.name.substr(slash + 1) == "data.pkl") {
      if (found) fail(z.path(), ": several data.pkl entries (", found->name, ", ", e.name, ")");
      found = &e;
    }
  }
  if (!found)
    fail(z.path(), ": no <name>/data.pkl entry: not a PyTorch (torch.save, zip format) checkpoint");
  return *found;
}

}  // namespace

std::vector<CheckpointTensor> read_torch_checkpoint(const std::string& path) {
  const ZipArchive z = ZipArchive::open(path);
  const ZipEntry& pkl = find_pickle(z);
  const std::string prefix = pkl.name.substr(0, pkl.name.size() - std::string("data.pkl").size());
  const std::string what = path + ": " + pkl.name;
  // torch >= 2.1 records the byte order of the storages; older files are little-endian.
  if (const ZipEntry* bo = z.find(prefix + "byteorder")) {
    const auto b = z.stored_bytes(*bo);
    if (std::string(b.begin(), b.end()) != "little")
      fail(path, ": storages are not little-endian (", bo->name, " says '",
           std::string(b.begin(), b.begin() + long(std::min<size_t>(b.size(), 16))), "')");
  }
  const Unpickled u = unpickle(z.stored_bytes(pkl), what);
  if (u.root->kind != PyValue::Kind::Dict)
    fail(what, ": the pickled object is a ", py_kind_name(u.root->kind), ", not a state dict");
  std::vector<CheckpointTensor> out;
  for (const auto& [k, v] : u.root->dict) {
    if (k->kind != PyValue::Kind::String)
      fail(what, ": state dict key is a ", py_kind_name(k->kind), ", not a string");
    if (v->kind != PyValue::Kind::Tensor)
      fail(what, ": state dict entry ", k->s, " is a ", py_kind_name(v->kind), ", not a tensor");
    const PyValue& st = *v->items.at(0);
    const std::string tname = k->s;
    const StorageType& type = storage_type(st.s2, cat(path, ": tensor ", tname));
    CheckpointTensor t;
    t.name = tname;
    t.dtype_name = st.s2;
    t.dtype = type.dtype;
    t.shape = v->size;
    t.file = path;
    const int64_t n = checked_elements(t.shape, cat(path, ": tensor ", tname));
    if (v->stride.size() != t.shape.size())
      fail(path, ": tensor ", tname, ": ", v->stride.size(), " strides for ", t.shape.size(), " dimensions");
    // Contiguous row-major strides only (dimensions of size 1 may have any stride).
    int64_t expect = 1;
    for (size_t i = t.shape.size(); i-- > 0;) {
      if (t.shape[i] != 1 && v->stride[i] != expect)
        fail(path, ": tensor ", tname, " is not contiguous (size ", TensorDesc{"", DType::F32, v->size, 0}.shape_string(),
             ", stride ", TensorDesc{"", DType::F32, v->stride, 0}.shape_string(),
             "): only contiguous row-major tensors are supported");
      expect *= t.shape[i];
    }
    const ZipEntry* data = z.find(prefix + "data/" + st.s);
    if (!data) fail(path, ": tensor ", tname, ": storage entry ", prefix, "data/", st.s, " is missing");
    if (data->method != 0)
      fail(path, ": zip entry ", data->name, " is compressed (method ", data->method,
           "); torch.save writes stored entries");
    if (st.i < 0 || uint64_t(st.i) > data->size / uint64_t(type.size) ||
        uint64_t(st.i) * uint64_t(type.size) != data->size)
      fail(path, ": storage ", data->name, " holds ", data->size, " bytes, but its persistent id says ",
           st.i, " x ", type.size, "-byte elements");
    if (v->i < 0 || v->i > st.i || n > st.i - v->i)
      fail(path, ": tensor ", tname, " (offset ", v->i, ", ", n, " elements) lies outside its storage of ",
           st.i, " elements");
    t.offset = data->data_offset + uint64_t(v->i) * uint64_t(type.size);
    t.bytes = uint64_t(n) * uint64_t(type.size);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace llmpipe::hf
