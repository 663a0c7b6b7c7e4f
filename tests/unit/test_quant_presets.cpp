// llama.cpp's presets (convert/quant_presets.h): the type of every tensor for a model shaped
// like tiny256 (256 wide, 4 layers, 8 heads / 4 kv, ffn 768: every row whole 256-blocks) and
// for OpenLLaMA 3B (3200 wide, 26 layers, no GQA, ffn 8640: no row is whole 256-blocks, so
// every K-quant falls back). The expected tables below were derived by hand from
// llama_tensor_get_type (src/llama-quant.cpp at c392e50), with:
//   use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2
//     n = 4:  layers 2, 3;   n = 26: layers 0-2, 5, 8, 11, 14, 17, 20, 22-25
//   output.weight: Q8_0 if its rows miss the base type's blocks, else Q6_K (Q8_0 stays Q8_0)
//   fallbacks: Q2_K/Q3_K/IQ4_XS -> IQ4_NL, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0.
// They are encoded here so that the test needs no llama.cpp. Verified once against llama-quantize
// (c392e50) on tiny256-distilled.gguf, listing tensor types with gguf-py: Q4_K_M, Q3_K_M, Q2_K
// and IQ4_XS gave the same type for all 39 tensors as `llmpipe quantize --type` (and the same
// bytes).
#include <gtest/gtest.h>

#include <set>

#include "convert/quant_presets.h"
#include "convert/quantize_model.h"
#include "formats/gguf_reader.h"
#include "model/llama_arch.h"
#include "model/model_shapes.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

using D = DType;

struct ByLayer {  // `in` for the listed layers, `out` for the others
  std::set<int64_t> layers;
  D in, out;
  D at(int64_t l) const { return layers.count(l) ? in : out; }
};
ByLayer all(D t) { return {{}, t, t}; }

struct Expected {
  const char* preset;
  D token_embd, output, attn_output, other;
  ByLayer attn_v, ffn_down;
};

const std::set<int64_t> kMoreBits4 = {2, 3};
const std::set<int64_t> kMoreBits26 = {0, 1, 2, 5, 8, 11, 14, 17, 20, 22, 23, 24, 25};

const Expected kTiny[] = {
    {"Q2_K", D::Q2_K, D::Q6_K, D::Q3_K, D::Q2_K, all(D::Q3_K), all(D::Q3_K)},
    {"Q3_K_S", D::Q3_K, D::Q6_K, D::Q3_K, D::Q3_K, all(D::Q3_K), all(D::Q3_K)},
    {"Q3_K_M", D::Q3_K, D::Q6_K, D::Q4_K, D::Q3_K, {{0, 1}, D::Q5_K, D::Q4_K}, all(D::Q4_K)},
    {"Q3_K_L", D::Q3_K, D::Q6_K, D::Q5_K, D::Q3_K, all(D::Q5_K), all(D::Q5_K)},
    {"Q4_K_S", D::Q4_K, D::Q6_K, D::Q4_K, D::Q4_K, all(D::Q5_K), all(D::Q4_K)},
    {"Q4_K_M", D::Q4_K, D::Q6_K, D::Q4_K, D::Q4_K, {kMoreBits4, D::Q6_K, D::Q4_K},
     {kMoreBits4, D::Q6_K, D::Q4_K}},
    {"Q5_K_S", D::Q5_K, D::Q6_K, D::Q5_K, D::Q5_K, all(D::Q5_K), all(D::Q5_K)},
    {"Q5_K_M", D::Q5_K, D::Q6_K, D::Q5_K, D::Q5_K, {kMoreBits4, D::Q6_K, D::Q5_K},
     {kMoreBits4, D::Q6_K, D::Q5_K}},
    {"Q6_K", D::Q6_K, D::Q6_K, D::Q6_K, D::Q6_K, all(D::Q6_K), all(D::Q6_K)},
    {"IQ4_NL", D::IQ4_NL, D::Q6_K, D::IQ4_NL, D::IQ4_NL, all(D::IQ4_NL), all(D::IQ4_NL)},
    {"IQ4_XS", D::IQ4_XS, D::Q6_K, D::IQ4_XS, D::IQ4_XS, all(D::IQ4_XS), all(D::IQ4_XS)},
    {"Q4_0", D::Q4_0, D::Q6_K, D::Q4_0, D::Q4_0, all(D::Q4_0), all(D::Q4_0)},
    {"Q4_1", D::Q4_1, D::Q6_K, D::Q4_1, D::Q4_1, all(D::Q4_1), all(D::Q4_1)},
    {"Q5_0", D::Q5_0, D::Q6_K, D::Q5_0, D::Q5_0, all(D::Q5_0), all(D::Q5_0)},
    {"Q5_1", D::Q5_1, D::Q6_K, D::Q5_1, D::Q5_1, all(D::Q5_1), all(D::Q5_1)},
    {"Q8_0", D::Q8_0, D::Q8_0, D::Q8_0, D::Q8_0, all(D::Q8_0), all(D::Q8_0)},
    {"F16", D::F16, D::F16, D::F16, D::F16, all(D::F16), all(D::F16)},
};

const Expected k3B[] = {
    {"Q2_K", D::IQ4_NL, D::Q8_0, D::IQ4_NL, D::IQ4_NL, all(D::IQ4_NL), all(D::IQ4_NL)},
    {"Q3_K_S", D::IQ4_NL, D::Q8_0, D::IQ4_NL, D::IQ4_NL, all(D::IQ4_NL), all(D::IQ4_NL)},
    {"Q3_K_M", D::IQ4_NL, D::Q8_0, D::Q5_0, D::IQ4_NL, {{0, 1}, D::Q5_1, D::Q5_0},
     {{0}, D::Q5_1, D::Q5_0}},
    {"Q3_K_L", D::IQ4_NL, D::Q8_0, D::Q5_1, D::IQ4_NL, all(D::Q5_1), all(D::Q5_1)},
    {"Q4_K_S", D::Q5_0, D::Q8_0, D::Q5_0, D::Q5_0, {{0, 1, 2, 3}, D::Q5_1, D::Q5_0},
     {{0, 1, 2}, D::Q5_1, D::Q5_0}},
    {"Q4_K_M", D::Q5_0, D::Q8_0, D::Q5_0, D::Q5_0, {kMoreBits26, D::Q8_0, D::Q5_0},
     {kMoreBits26, D::Q8_0, D::Q5_0}},
    {"Q5_K_S", D::Q5_1, D::Q8_0, D::Q5_1, D::Q5_1, all(D::Q5_1), all(D::Q5_1)},
    {"Q5_K_M", D::Q5_1, D::Q8_0, D::Q5_1, D::Q5_1, {kMoreBits26, D::Q8_0, D::Q5_1},
     {kMoreBits26, D::Q8_0, D::Q5_1}},
    {"Q6_K", D::Q8_0, D::Q8_0, D::Q8_0, D::Q8_0, all(D::Q8_0), all(D::Q8_0)},
    {"IQ4_NL", D::IQ4_NL, D::Q8_0, D::IQ4_NL, D::IQ4_NL, all(D::IQ4_NL),
     {{0, 1, 2}, D::Q5_1, D::IQ4_NL}},
    {"IQ4_XS", D::IQ4_NL, D::Q8_0, D::IQ4_NL, D::IQ4_NL, all(D::IQ4_NL),
     {{0, 1, 2}, D::Q5_1, D::IQ4_NL}},
    {"Q4_0", D::Q4_0, D::Q8_0, D::Q4_0, D::Q4_0, all(D::Q4_0), all(D::Q4_0)},
    {"Q5_1", D::Q5_1, D::Q8_0, D::Q5_1, D::Q5_1, all(D::Q5_1), all(D::Q5_1)},
    {"Q8_0", D::Q8_0, D::Q8_0, D::Q8_0, D::Q8_0, all(D::Q8_0), all(D::Q8_0)},
};

// The tensors of a LLaMA model of shape `h`, in the order synth writes them.
std::vector<gguf::TensorInfo> llama_tensors(const LlamaHParams& h) {
  std::vector<gguf::TensorInfo> out;
  auto add = [&](TensorRole r, int64_t layer) {
    out.push_back({tensor_name(r, layer), D::F32, expected_shape(r, h)});
  };
  add(TensorRole::TokenEmbd, -1);
  for (int64_t l = 0; l < h.n_layer; ++l)
    for (TensorRole r : kLayerRoles)
      if (role_in_model(r, h)) add(r, l);
  add(TensorRole::OutputNorm, -1);
  add(TensorRole::Output, -1);
  return out;
}

D expected_type(const Expected& e, const std::string& name) {
  const auto rl = role_from_name(name);
  switch (rl->role) {
    case TensorRole::TokenEmbd: return e.token_embd;
    case TensorRole::Output: return e.output;
    case TensorRole::AttnOut: return e.attn_output;
    case TensorRole::AttnV: return e.attn_v.at(rl->layer);
    case TensorRole::FfnDown: return e.ffn_down.at(rl->layer);
    default: return e.other;
  }
}

void check_table(const LlamaHParams& h, std::span<const Expected> table) {
  const auto tensors = llama_tensors(h);
  const PresetModel m{h.n_layer, h.n_head, h.n_head_kv};
  for (const auto& e : table) {
    const QuantPreset* p = find_quant_preset(e.preset);
    ASSERT_NE(p, nullptr) << e.preset;
    const auto types = preset_tensor_types(*p, tensors, m);
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].shape.size() < 2) {
        EXPECT_FALSE(types[i].has_value()) << e.preset << " " << tensors[i].name;
        continue;
      }
      ASSERT_TRUE(types[i].has_value()) << e.preset << " " << tensors[i].name;
      EXPECT_EQ(dtype_name(*types[i]), dtype_name(expected_type(e, tensors[i].name)))
          << e.preset << " " << tensors[i].name;
    }
  }
}

TEST(QuantPresets, TypesOfATiny256ShapedModelAreLlamaQuantizes) {
  check_table(find_model_shape("tiny").hparams, kTiny);
}

TEST(QuantPresets, TypesOfOpenLlama3BAreLlamaQuantizesWithFallbacks) {
  check_table(find_model_shape("openllama-3b").hparams, k3B);
}

TEST(QuantPresets, NamesAndAliases) {
  EXPECT_EQ(find_quant_preset("q4_k_m"), find_quant_preset("Q4_K_M"));
  EXPECT_EQ(find_quant_preset("Q4_K")->name, "Q4_K_M");
  EXPECT_EQ(find_quant_preset("Q3_K")->name, "Q3_K_M");
  EXPECT_EQ(find_quant_preset("Q4_K_M")->ftype, 15u);
  EXPECT_EQ(find_quant_preset("IQ4_XS")->ftype, 30u);
  EXPECT_EQ(find_quant_preset("Q2_K_S"), nullptr);  // needs an importance matrix
  EXPECT_EQ(find_quant_preset("IQ2_XXS"), nullptr);
}

// Rows of 172 (stories260K's ffn_down) fit neither Q4_0 nor any fallback: llama-quantize stops
// there ("Unsupported tensor size"); so do we, naming the tensor and the way out.
TEST(QuantPresets, LegacyTypeWithoutFallbackIsAnError) {
  std::vector<gguf::TensorInfo> t = {{"blk.0.ffn_down.weight", D::F32, {172, 64}}};
  try {
    preset_tensor_types(*find_quant_preset("Q4_0"), t, {1, 8, 8});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.0.ffn_down.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--fallback"), std::string::npos) << e.what();
  }
  // Q4_K_M's Q4_K falls back to Q5_0, which does not fit either: F16.
  EXPECT_EQ(preset_tensor_types(*find_quant_preset("Q4_K_M"), t, {1, 8, 8})[0], D::F16);
}

// The file: tiny256 as Q4_K_M has llama-quantize's types and general.file_type 15.
TEST(QuantPresets, QuantizeWritesThePresetsTypesAndFileType) {
  test::TempDir dir;
  const auto in_path = test::data_path("tiny256-distilled.gguf");
  const auto out = dir.file("q4km.gguf");
  QuantizeOptions o;
  o.preset = find_quant_preset("Q4_K_M");
  o.threads = 2;
  quantize_model(in_path, out, o);
  const auto q = gguf::Reader::open(out);
  EXPECT_EQ(q.get_int("general.file_type"), 15);
  EXPECT_EQ(q.get_int("general.quantization_version"), 2);
  for (const auto& t : q.tensors()) {
    const D want = t.shape.size() < 2 ? D::F32 : expected_type(kTiny[5], t.name);
    EXPECT_EQ(dtype_name(t.dtype), dtype_name(want)) << t.name;
  }
}

}  // namespace
}  // namespace llmpipe
