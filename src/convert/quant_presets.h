// llama.cpp's quantization presets (llama-quantize's Q4_K_M, Q3_K_S, IQ4_XS, Q8_0, ...): for a
// LLaMA model, the type of every tensor as llama-quantize (commit c392e50, without an importance
// matrix) picks it in src/llama-quant.cpp's llama_tensor_get_type: a base type, more bits for
// some attn_v / ffn_down / attn_output layers, Q6_K for the output matrix, and the fallback
// chain for matrices whose rows are not whole blocks (Q2_K/Q3_K/IQ4_XS -> IQ4_NL, Q4_K -> Q5_0,
// Q5_K -> Q5_1, Q6_K -> Q8_0, then F16). The per-preset rules are data: quant_presets.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "formats/gguf_reader.h"

namespace llmpipe {

// Which layers of a kind a rule applies to, by the tensor's index i among the n of its kind
// (layer order): llama.cpp's use_more_bits, the first n/8 or n/16, the first two or four.
enum class LayerSet : uint8_t { All, MoreBits, FirstEighth, FirstSixteenth, FirstTwo, FirstFour,
                                GqaAtLeast4 /* all, when n_head / n_head_kv >= 4 */ };
enum class TensorKind : uint8_t { AttnV, FfnDown, AttnOutput, AttnQkv, Other };

struct TypeRule {  // tensors of `kind` in `layers` become `type`; the first matching rule wins
  TensorKind kind;
  LayerSet layers;
  DType type;
};

struct QuantPreset {
  std::string_view name;  // llama-quantize's name: "Q4_K_M"
  uint32_t ftype;         // llama_ftype, written as general.file_type
  DType base;             // every quantized matrix without a rule
  bool mixes;             // llama_tensor_get_type applies (the quantized presets; not F16/BF16/F32)
  std::span<const TypeRule> rules;
};

// By llama-quantize's name, case-insensitive, with its aliases (Q4_K = Q4_K_M, Q5_K = Q5_K_M,
// Q3_K = Q3_K_M); nullptr for other names.
const QuantPreset* find_quant_preset(std::string_view name);
std::string quant_preset_names();  // "Q4_0, Q4_1, ..., F32"

// What llama_tensor_get_type needs to know of the model.
struct PresetModel {
  int64_t n_layer = 0, n_head = 0, n_head_kv = 0;
};
PresetModel preset_model_from_gguf(const gguf::Reader& file);

// Whether llama-quantize quantizes the tensor at all: names ending in "weight" with two or more
// dimensions, except norms. The others keep their type (stored F32 here: norms must be).
bool preset_quantizes(const gguf::TensorInfo& t);

// The type of every tensor (in `tensors`' order) under `preset`; std::nullopt for the tensors
// preset_quantizes() leaves alone. An Error names a matrix that no type of the chain fits.
std::vector<std::optional<DType>> preset_tensor_types(const QuantPreset& preset,
                                                      std::span<const gguf::TensorInfo> tensors,
                                                      const PresetModel& model);

}  // namespace llmpipe
