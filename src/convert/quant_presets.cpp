#include "convert/quant_presets.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "core/error.h"
#include "model/llama_hparams.h"

namespace llmpipe {

namespace {

using K = TensorKind;
using L = LayerSet;
using D = DType;

// llama_tensor_get_type's rules for a LLaMA model (not Falcon, not mixture-of-experts, no
// imatrix), one list per preset, in the order of its if/else chains.
constexpr TypeRule kQ2_K[] = {{K::AttnV, L::GqaAtLeast4, D::Q4_K}, {K::AttnV, L::All, D::Q3_K},
                              {K::FfnDown, L::All, D::Q3_K}, {K::AttnOutput, L::All, D::Q3_K}};
constexpr TypeRule kQ3_K_M[] = {
    {K::AttnV, L::FirstTwo, D::Q5_K},         {K::AttnV, L::All, D::Q4_K},
    {K::FfnDown, L::FirstSixteenth, D::Q5_K}, {K::FfnDown, L::All, D::Q4_K},
    {K::AttnOutput, L::All, D::Q4_K},         {K::AttnQkv, L::All, D::Q4_K}};
constexpr TypeRule kQ3_K_L[] = {{K::AttnV, L::All, D::Q5_K}, {K::FfnDown, L::All, D::Q5_K},
                                {K::AttnOutput, L::All, D::Q5_K}, {K::AttnQkv, L::All, D::Q4_K}};
constexpr TypeRule kQ4_K_S[] = {{K::AttnV, L::FirstFour, D::Q5_K},
                                {K::FfnDown, L::FirstEighth, D::Q5_K}};
constexpr TypeRule kQ4_K_M[] = {{K::AttnV, L::MoreBits, D::Q6_K},
                                {K::FfnDown, L::MoreBits, D::Q6_K}, {K::AttnQkv, L::All, D::Q5_K}};
constexpr TypeRule kQ5_K_M[] = {{K::AttnV, L::MoreBits, D::Q6_K},
                                {K::FfnDown, L::MoreBits, D::Q6_K}, {K::AttnQkv, L::All, D::Q6_K}};
constexpr TypeRule kIQ4[] = {{K::AttnV, L::GqaAtLeast4, D::Q5_K},
                             {K::FfnDown, L::FirstEighth, D::Q5_K}};

// llama-quantize's list (examples/quantize/quantize.cpp) less the types this engine does not
// have (IQ1..IQ3, TQ) and Q2_K_S (it requires an importance matrix).
constexpr QuantPreset kPresets[] = {
    {"Q4_0", 2, D::Q4_0, true, {}},         {"Q4_1", 3, D::Q4_1, true, {}},
    {"Q5_0", 8, D::Q5_0, true, {}},         {"Q5_1", 9, D::Q5_1, true, {}},
    {"Q2_K", 10, D::Q2_K, true, kQ2_K},     {"Q3_K_S", 11, D::Q3_K, true, {}},
    {"Q3_K_M", 12, D::Q3_K, true, kQ3_K_M}, {"Q3_K_L", 13, D::Q3_K, true, kQ3_K_L},
    {"IQ4_NL", 25, D::IQ4_NL, true, kIQ4},  {"IQ4_XS", 30, D::IQ4_XS, true, kIQ4},
    {"Q4_K_S", 14, D::Q4_K, true, kQ4_K_S}, {"Q4_K_M", 15, D::Q4_K, true, kQ4_K_M},
    {"Q5_K_S", 16, D::Q5_K, true, {}},      {"Q5_K_M", 17, D::Q5_K, true, kQ5_K_M},
    {"Q6_K", 18, D::Q6_K, true, {}},        {"Q8_0", 7, D::Q8_0, true, {}},
    {"F16", 1, D::F16, false, {}},          {"BF16", 32, D::BF16, false, {}},
    {"F32", 0, D::F32, false, {}},
};
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
    {"Q3_K", "Q3_K_M"}, {"Q4_K", "Q4_K_M"}, {"Q5_K", "Q5_K_M"}};

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = char(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}
bool contains(std::string_view s, std::string_view part) { return s.find(part) != s.npos; }

TensorKind kind_of(std::string_view name) {  // llama.cpp matches substrings
  if (contains(name, "attn_v.weight")) return K::AttnV;
  if (contains(name, "ffn_down")) return K::FfnDown;
  if (contains(name, "attn_output.weight")) return K::AttnOutput;
  if (contains(name, "attn_qkv.weight")) return K::AttnQkv;
  return K::Other;
}

bool use_more_bits(int64_t i, int64_t n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

bool in_set(LayerSet s, int64_t i, int64_t n, const PresetModel& m) {
  switch (s) {
    case L::All: return true;
    case L::MoreBits: return use_more_bits(i, n);
    case L::FirstEighth: return i < n / 8;
    case L::FirstSixteenth: return i < n / 16;
    case L::FirstTwo: return i < 2;
    case L::FirstFour: return i < 4;
    case L::GqaAtLeast4: return m.n_head / m.n_head_kv >= 4;
  }
  return false;
}

bool fits(DType t, int64_t cols) { return cols % dtype_block_size(t) == 0; }

// llama.cpp's substitute for a type whose blocks do not fit the rows (then F16 if that does not
// fit either); nullopt where llama-quantize gives up ("Unsupported tensor size").
std::optional<DType> fallback_of(DType t) {
  switch (t) {
    case D::Q2_K: case D::Q3_K: case D::IQ4_XS: return D::IQ4_NL;
    case D::Q4_K: return D::Q5_0;
    case D::Q5_K: return D::Q5_1;
    case D::Q6_K: return D::Q8_0;
    default: return std::nullopt;
  }
}

// Layer number of "blk.N...." (-1 for model-wide tensors): llama.cpp visits tensors sorted by it,
// then by name, and counts the attn_v and ffn_down tensors in that order.
int64_t layer_of(const std::string& name) {
  int layer = -1;
  std::sscanf(name.c_str(), "blk.%d.", &layer);
  return layer;
}

}  // namespace

const QuantPreset* find_quant_preset(std::string_view name) {
  std::string u = upper(name);
  for (const auto& [alias, target] : kAliases)
    if (u == alias) u = target;
  for (const auto& p : kPresets)
    if (p.name == u) return &p;
  return nullptr;
}

std::string quant_preset_names() {
  std::string s;
  for (const auto& p : kPresets) s += (s.empty() ? "" : ", ") + std::string(p.name);
  return s;
}

PresetModel preset_model_from_gguf(const gguf::Reader& file) {
  if (file.get_int("llama.expert_count").value_or(0) > 1)
    fail(file.path(), ": mixture-of-experts models (llama.expert_count > 1) have their own "
         "preset rules, not implemented; use a single --type (e.g. q8_0)");
  const LlamaHParams h = hparams_from_gguf(file);
  return {h.n_layer, h.n_head, h.n_head_kv};
}

bool preset_quantizes(const gguf::TensorInfo& t) {
  return ends_with(t.name, "weight") && t.shape.size() >= 2 && !contains(t.name, "_norm.weight");
}

namespace {

// The type before the fallback check, for the tensor of `kind` that is number i of its kind.
DType ruled_type(const QuantPreset& p, const gguf::TensorInfo& t, bool output, int64_t i,
                 int64_t n, const PresetModel& m) {
  if (output)  // output.weight (or a tied token_embd): Q6_K, or Q8_0 if rows miss base's blocks
    return !fits(p.base, t.cols()) ? D::Q8_0 : p.base != D::Q8_0 ? D::Q6_K : p.base;
  const TensorKind kind = kind_of(t.name);
  DType type = p.base;
  for (const auto& r : p.rules)
    if (r.kind == kind && in_set(r.layers, i, n, m)) {
      type = r.type;
      break;
    }
  // LLaMA 70B (80 layers, grouped kv heads): its small attn_v matrices get Q5_K.
  const bool is_70b = m.n_layer == 80 && m.n_head != m.n_head_kv;
  if (kind == K::AttnV && is_70b && (type == D::Q3_K || type == D::Q4_K)) type = D::Q5_K;
  return type;
}

}  // namespace

std::vector<std::optional<DType>> preset_tensor_types(const QuantPreset& p,
                                                      std::span<const gguf::TensorInfo> tensors,
                                                      const PresetModel& m) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int64_t la = layer_of(tensors[a].name), lb = layer_of(tensors[b].name);
    return la != lb ? la < lb : tensors[a].name < tensors[b].name;
  });
  bool has_output = false;
  int64_t n_attn_v = 0;
  for (const auto& t : tensors) {
    has_output |= t.name == "output.weight";
    n_attn_v += kind_of(t.name) == K::AttnV || contains(t.name, "attn_qkv.weight");
  }
  std::vector<std::optional<DType>> out(tensors.size());
  std::map<TensorKind, int64_t> seen;  // tensors of each kind visited so far
  for (size_t idx : order) {
    const auto& t = tensors[idx];
    if (!preset_quantizes(t)) continue;
    if (!p.mixes) {
      out[idx] = p.base;
      continue;
    }
    const bool output = t.name == "output.weight" || (!has_output && t.name == "token_embd.weight");
    const TensorKind kind = output ? K::Other : kind_of(t.name);
    const int64_t n = kind == K::FfnDown ? m.n_layer : n_attn_v;
    DType type = ruled_type(p, t, output, seen[kind]++, n, m);
    if (!fits(type, t.cols())) {
      const auto fb = fallback_of(type);
      if (!fb)
        fail("tensor ", t.name, " ", t.shape_string(), ": rows of ", t.cols(),
             " elements are not whole ", dtype_name(type), " blocks of ", dtype_block_size(type),
             ", and preset ", p.name, " has no fallback for ", dtype_name(type),
             " (llama-quantize refuses it too); use a single type with a fallback, e.g. --type ",
             dtype_name(type), " --fallback f16");
      type = fits(*fb, t.cols()) ? *fb : D::F16;
    }
    out[idx] = type;
  }
  return out;
}

}  // namespace llmpipe
