#include "formats/gguf_tensor_source.h"

#include <sstream>

#include "core/error.h"

namespace llmpipe {

std::string TensorDesc::shape_string() const {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

namespace {
TensorDesc desc_of(const gguf::TensorInfo& t) { return {t.name, t.dtype, t.shape, t.bytes}; }
}  // namespace

std::optional<TensorDesc> GgufTensorSource::find(std::string_view name) const {
  const auto* t = file_->find_tensor(name);
  if (!t) return std::nullopt;
  return desc_of(*t);
}

std::vector<TensorDesc> GgufTensorSource::list() const {
  std::vector<TensorDesc> out;
  for (const auto& t : file_->tensors()) out.push_back(desc_of(t));
  return out;
}

HostTensor GgufTensorSource::load(std::string_view name) const {
  const auto* t = file_->find_tensor(name);
  if (!t) fail(file_->path(), ": missing tensor ", name);
  auto region = std::make_shared<MappedRegion>(file_->map_tensor(*t));
  HostTensor h;
  h.desc = desc_of(*t);
  h.data = region->data();
  h.owner = std::move(region);
  return h;
}

}  // namespace llmpipe
