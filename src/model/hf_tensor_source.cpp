#include "model/hf_tensor_source.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "model/hf_rope_layout.h"
#include "model/llama_arch.h"

namespace llmpipe {

namespace {

TensorDesc gguf_desc(std::string_view gguf_name, const hf::CheckpointTensor& t) {
  TensorDesc d;
  d.name = std::string(gguf_name);
  d.dtype = t.require_dtype();
  d.shape.assign(t.shape.rbegin(), t.shape.rend());  // PyTorch order -> GGUF order
  d.bytes = t.bytes;
  return d;
}

// A mapped tensor whose bytes can be used in place only if aligned for its element type.
bool aligned_for(const void* p, DType t) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  return a % (t == DType::F32 ? 4 : 2) == 0;
}

}  // namespace

HfTensorSource::HfTensorSource(std::shared_ptr<const hf::CheckpointSet> set,
                               const LlamaHParams& hparams, bool tied)
    : set_(std::move(set)), h_(hparams), tied_(tied) {}

bool HfTensorSource::is_rope_freqs(std::string_view gguf_name) const {
  return h_.has_rope_freqs && gguf_name == tensor_name(TensorRole::RopeFreqs);
}

const hf::CheckpointTensor* HfTensorSource::stored(std::string_view gguf_name) const {
  const auto rl = role_from_name(gguf_name);
  if (!rl || (rl->layer >= h_.n_layer) || !role_in_model(rl->role, h_)) return nullptr;
  if (rl->role == TensorRole::Output && tied_) return nullptr;  // tied: the model uses token_embd
  const std::string hf_name = hf_tensor_name(rl->role, rl->layer);
  const auto* t = set_->find(hf_name);
  if (!t && rl->role == TensorRole::Output)
    fail(set_->origin(),
         ": no tensor lm_head.weight, but config.json says tie_word_embeddings "
         "is false");
  return t;
}

std::optional<TensorDesc> HfTensorSource::find(std::string_view name) const {
  if (is_rope_freqs(name)) {
    const int64_t n = h_.head_dim() / 2;
    return TensorDesc{std::string(name), DType::F32, {n}, uint64_t(n) * sizeof(float)};
  }
  const auto* t = stored(name);
  if (!t) return std::nullopt;
  return gguf_desc(name, *t);
}

std::vector<TensorDesc> HfTensorSource::list() const {
  std::vector<std::string> names = {tensor_name(TensorRole::TokenEmbd)};
  for (int64_t l = 0; l < h_.n_layer; ++l)
    for (const TensorRole r : kLayerRoles)
      if (role_in_model(r, h_)) names.push_back(tensor_name(r, l));
  names.push_back(tensor_name(TensorRole::OutputNorm));
  names.push_back(tensor_name(TensorRole::Output));
  if (h_.has_rope_freqs) names.push_back(tensor_name(TensorRole::RopeFreqs));
  std::vector<TensorDesc> out;
  for (const auto& n : names)
    if (auto d = find(n)) out.push_back(std::move(*d));
  return out;
}

HostTensor HfTensorSource::load(std::string_view name) const {
  if (is_rope_freqs(name)) {
    auto buf = std::make_shared<std::vector<float>>(
        llama3_rope_freq_factors(*h_.rope_scaling, h_.head_dim(), h_.rope_freq_base));
    HostTensor h;
    h.desc = *find(name);
    h.data = buf->data();
    h.owner = std::move(buf);
    return h;
  }
  const auto* t = stored(name);
  if (!t)
    fail(
        origin(), ": missing tensor ", name, " (",
        [&] {
          const auto rl = role_from_name(name);
          return rl ? hf_tensor_name(rl->role, rl->layer) : std::string("not a LLaMA tensor name");
        }(),
        ")");
  HostTensor h;
  h.desc = gguf_desc(name, *t);
  auto region = std::make_shared<MappedRegion>(t->map());
  const auto role = role_from_name(name)->role;
  if (role_has_rope_rows(role, h_.arch)) {
    if (t->shape.size() != 2) fail(t->file, ": tensor ", t->name, " is not a matrix");
    const int64_t rows = t->shape[0];
    const size_t row_bytes = dtype_row_bytes(h.desc.dtype, t->shape[1]);
    const int64_t heads = role == TensorRole::AttnQ ? h_.n_head : h_.n_head_kv;
    auto buf = std::make_shared<std::vector<uint8_t>>(region->size());
    hf_to_gguf_rope_rows(region->bytes(), *buf, rows, row_bytes, heads);
    h.data = buf->data();
    h.owner = std::move(buf);
  } else if (!aligned_for(region->data(), h.desc.dtype)) {
    auto buf = std::make_shared<std::vector<float>>((region->size() + 3) / 4);
    std::memcpy(buf->data(), region->data(), region->size());
    h.data = buf->data();
    h.owner = std::move(buf);
  } else {
    h.data = region->data();
    h.owner = std::move(region);
  }
  return h;
}

}  // namespace llmpipe
