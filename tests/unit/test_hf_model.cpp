// Hugging Face model directories: config.json, name mapping, the Q/K RoPE row order, sharded
// and lazy loading, and the errors of malformed directories.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "formats/hf/checkpoint_set.h"
#include "formats/hf/hf_config.h"
#include "hf_test_files.h"
#include "core/half.h"
#include "kernels/cpu/quantize.h"
#include "model/converting_tensor_source.h"
#include "model/hf_rope_layout.h"
#include "model/hf_tensor_source.h"
#include "model/llama_arch.h"
#include "model/model_source.h"

namespace llmpipe {
namespace {

using nlohmann::json;
using test::expect_error;

hf::HfConfig config_of(const json& j) { return hf::parse_hf_config(j.dump(), "config.json"); }

TEST(HfModelConfig, ReadsFieldsAndDefaults) {
  const auto c = config_of(test::tiny_config());
  EXPECT_EQ(c.hidden_size, 8);
  EXPECT_EQ(c.num_key_value_heads, 1);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_FALSE(c.rope_scaling);
  json j = test::tiny_config();
  j.erase("num_key_value_heads");
  j["eos_token_id"] = {2, 7};
  j["rope_theta"] = 500000.0;
  const auto d = config_of(j);
  EXPECT_EQ(d.num_key_value_heads, 2);  // default: the head count
  EXPECT_EQ(d.eos_token_id, 2);
  const LlamaHParams h = hparams_from_hf_config(d);
  EXPECT_EQ(h.n_head_kv, 2);
  EXPECT_EQ(h.rope_freq_base, 500000.0f);
  EXPECT_EQ(h.n_ctx_train, 64);
}

TEST(HfModelConfig, RopeScalingIsParsed) {
  json j = test::tiny_config();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  const auto c = config_of(j);
  ASSERT_TRUE(c.rope_scaling);
  EXPECT_EQ(c.rope_scaling->type, "llama3");
  EXPECT_EQ(c.rope_scaling->factor, 8.0);
  EXPECT_EQ(c.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_TRUE(hparams_from_hf_config(c).has_rope_freqs);
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  EXPECT_EQ(config_of(j).rope_scaling->type, "linear");
  EXPECT_FLOAT_EQ(hparams_from_hf_config(config_of(j)).rope_position_scale(), 0.5f);
  for (const char* type : {"dynamic", "yarn", "longrope"}) {
    j["rope_scaling"] = {{"type", type}, {"factor", 2.0}};
    expect_error([&] { hparams_from_hf_config(config_of(j)); },
                 {"config.json", cat("rope scaling '", type, "'"), "supported: linear, llama3"});
  }
  j["rope_scaling"] = nullptr;
  EXPECT_FALSE(config_of(j).rope_scaling);
}

TEST(HfModelConfig, ErrorsNameTheField) {
  expect_error([] { hf::parse_hf_config("{", "dir/config.json"); }, {"dir/config.json", "not valid JSON"});
  json j = test::tiny_config();
  j.erase("hidden_size");
  expect_error([&] { config_of(j); }, {"config.json", "missing field hidden_size"});
  j = test::tiny_config();
  j["num_hidden_layers"] = "two";
  expect_error([&] { config_of(j); }, {"field num_hidden_layers", "\"two\"", "expected an integer"});
  j = test::tiny_config();
  j["model_type"] = "gpt2";
  j["architectures"] = {"GPT2LMHeadModel"};
  expect_error([&] { hparams_from_hf_config(config_of(j)); },
               {"GPT2LMHeadModel", "not supported", "LlamaForCausalLM, MistralForCausalLM, "
                "Qwen2ForCausalLM, Qwen3ForCausalLM"});
  j = test::tiny_config();
  j["rope_scaling"] = {{"factor", 2.0}};
  expect_error([&] { config_of(j); }, {"rope_scaling has neither rope_type nor type"});
  j = test::tiny_config();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", "big"}};
  expect_error([&] { config_of(j); }, {"field rope_scaling.factor"});
  j = test::tiny_config();
  j["attention_bias"] = true;
  expect_error([&] { hparams_from_hf_config(config_of(j)); }, {"attention_bias"});
  j = test::tiny_config();
  j["hidden_act"] = "gelu";
  expect_error([&] { config_of(j); }, {"hidden_act", "gelu"});
  j = test::tiny_config();
  j["num_attention_heads"] = 3;  // 8 is not divisible by 3
  expect_error([&] { hparams_from_hf_config(config_of(j)); }, {"not divisible by head count 3"});
}

TEST(HfModelNames, TableMapsEveryRole) {
  EXPECT_EQ(hf_tensor_name(TensorRole::TokenEmbd), "model.embed_tokens.weight");
  EXPECT_EQ(hf_tensor_name(TensorRole::Output), "lm_head.weight");
  EXPECT_EQ(hf_tensor_name(TensorRole::OutputNorm), "model.norm.weight");
  EXPECT_EQ(hf_tensor_name(TensorRole::AttnQ, 3), "model.layers.3.self_attn.q_proj.weight");
  EXPECT_EQ(hf_tensor_name(TensorRole::AttnOut, 0), "model.layers.0.self_attn.o_proj.weight");
  EXPECT_EQ(hf_tensor_name(TensorRole::FfnNorm, 11), "model.layers.11.post_attention_layernorm.weight");
  EXPECT_EQ(hf_tensor_name(TensorRole::FfnDown, 2), "model.layers.2.mlp.down_proj.weight");
  for (const TensorRole r : kLayerRoles) {
    const auto rl = role_from_name(tensor_name(r, 17));
    ASSERT_TRUE(rl);
    EXPECT_EQ(rl->role, r);
    EXPECT_EQ(rl->layer, 17);
  }
  EXPECT_EQ(role_from_name("output.weight")->role, TensorRole::Output);
  EXPECT_FALSE(role_from_name("blk.x.attn_q.weight"));
  EXPECT_FALSE(role_from_name("blk..attn_q.weight"));
  EXPECT_EQ(role_from_name("rope_freqs.weight")->role, TensorRole::RopeFreqs);
  EXPECT_EQ(role_from_name("blk.2.attn_q_norm.weight")->role, TensorRole::AttnQNorm);
  EXPECT_EQ(role_from_name("blk.2.attn_v.bias")->role, TensorRole::AttnVBias);
  EXPECT_EQ(hf_tensor_name(TensorRole::AttnKNorm, 1), "model.layers.1.self_attn.k_norm.weight");
  EXPECT_EQ(hf_tensor_name(TensorRole::AttnQBias, 0), "model.layers.0.self_attn.q_proj.bias");
}

TEST(HfModelRope, PermutationMatchesLlamaCpp) {
  // 2 heads of head_dim 4, one byte per row: GGUF row h*4 + 2i + j = HF row h*4 + j*2 + i.
  const std::vector<uint8_t> hf = {0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<uint8_t> gguf(8), back(8);
  hf_to_gguf_rope_rows(hf, gguf, 8, 1, 2);
  EXPECT_EQ(gguf, (std::vector<uint8_t>{0, 2, 1, 3, 4, 6, 5, 7}));
  gguf_to_hf_rope_rows(gguf, back, 8, 1, 2);
  EXPECT_EQ(back, hf);
  expect_error([&] { hf_to_gguf_rope_rows(hf, gguf, 8, 1, 3); }, {"do not split into 3 heads"});
}

TEST(HfModelRope, PermutationAndInverseDifferFromHeadDim8) {
  // At head_dim 4 the permutation is its own inverse, so a swapped direction would pass above.
  // 3 heads of head_dim 8, two bytes per row: llama.cpp's formula, GGUF row h*8 + 2i + j =
  // HF row h*8 + j*4 + i, and the two directions are now different permutations.
  const int64_t heads = 3, hd = 8, rows = heads * hd;
  std::vector<uint8_t> hf(size_t(rows) * 2), want(hf.size()), gguf(hf.size()), back(hf.size());
  for (size_t i = 0; i < hf.size(); ++i) hf[i] = uint8_t(i);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < hd / 2; ++i)
      for (int64_t j = 0; j < 2; ++j)
        for (int64_t b = 0; b < 2; ++b)
          want[size_t((h * hd + 2 * i + j) * 2 + b)] = hf[size_t((h * hd + j * hd / 2 + i) * 2 + b)];
  hf_to_gguf_rope_rows(hf, gguf, rows, 2, heads);
  EXPECT_EQ(gguf, want);
  gguf_to_hf_rope_rows(hf, back, rows, 2, heads);  // the inverse applied to HF order
  EXPECT_NE(back, want) << "the inverse is the same permutation: the test cannot tell them apart";
  gguf_to_hf_rope_rows(gguf, back, rows, 2, heads);
  EXPECT_EQ(back, hf);
}

// A tiny model directory: config.json and the tensors in one file or two shards.
struct TinyDir {
  test::TempDir dir;
  std::string path() const { return std::filesystem::path(dir.file("x")).parent_path().string(); }

  explicit TinyDir(bool sharded, const json& config = test::tiny_config()) {
    test::write_text(dir.file("config.json"), config.dump());
    auto tensors = test::tiny_tensors();
    if (!sharded) {
      test::write_bytes(dir.file("model.safetensors"), test::safetensors_file(tensors));
      return;
    }
    const size_t half = tensors.size() / 2;
    std::vector<test::StTensor> a(tensors.begin(), tensors.begin() + long(half)),
        b(tensors.begin() + long(half), tensors.end());
    test::write_bytes(dir.file("model-00001-of-00002.safetensors"), test::safetensors_file(a));
    test::write_bytes(dir.file("model-00002-of-00002.safetensors"), test::safetensors_file(b));
    json map = json::object();
    for (const auto& t : a) map[t.name] = "model-00001-of-00002.safetensors";
    for (const auto& t : b) map[t.name] = "model-00002-of-00002.safetensors";
    test::write_text(dir.file("model.safetensors.index.json"), json{{"weight_map", map}}.dump());
  }
};

std::vector<float> floats(const HostTensor& t) {
  std::vector<float> v(t.desc.bytes / 4);
  std::memcpy(v.data(), t.data, t.desc.bytes);
  return v;
}

TEST(HfModelSource, GgufNamesShapesAndPermutedRows) {
  TinyDir d(false);
  const auto set = std::make_shared<const hf::CheckpointSet>(hf::CheckpointSet::open(d.path()));
  const LlamaHParams h = hparams_from_hf_config(hf::read_hf_config(d.dir.file("config.json")));
  HfTensorSource src(set, h, false);
  const auto embd = src.find("token_embd.weight");
  ASSERT_TRUE(embd);
  EXPECT_EQ(embd->shape, (std::vector<int64_t>{8, 32}));  // GGUF order
  EXPECT_EQ(src.find("blk.1.ffn_down.weight")->shape, (std::vector<int64_t>{32, 8}));
  EXPECT_FALSE(src.find("blk.2.attn_q.weight"));  // no layer 2
  EXPECT_EQ(src.list().size(), 3u + 2 * 9);
  // q: 2 heads of 4 rows of 8; HF row r holds values base + 8r + c.
  const auto q = floats(src.load("blk.0.attn_q.weight"));
  const float base = 1000 * 2;  // third tensor written
  const int hf_row_of[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int r = 0; r < 8; ++r) EXPECT_EQ(q[size_t(r) * 8], base + 8 * hf_row_of[r]) << r;
  // k: one KV head of 4 rows.
  const auto k = floats(src.load("blk.0.attn_k.weight"));
  for (int r = 0; r < 4; ++r) EXPECT_EQ(k[size_t(r) * 8], 3000 + 8 * hf_row_of[r]) << r;
  // v is untouched.
  const auto v = floats(src.load("blk.0.attn_v.weight"));
  for (int r = 0; r < 4; ++r) EXPECT_EQ(v[size_t(r) * 8], 4000 + 8 * r);
  expect_error([&] { src.load("blk.9.attn_q.weight"); }, {"missing tensor blk.9.attn_q.weight",
                                                        "model.layers.9.self_attn.q_proj.weight"});
}

TEST(HfModelSource, ShardsOpenLazily) {
  TinyDir d(true);
  const auto set = std::make_shared<const hf::CheckpointSet>(hf::CheckpointSet::open(d.path()));
  EXPECT_EQ(set->shard_files().size(), 2u);
  EXPECT_EQ(set->shards_opened(), 0u);
  ASSERT_TRUE(set->find("model.embed_tokens.weight"));
  EXPECT_EQ(set->shards_opened(), 1u);
  EXPECT_FALSE(set->find("no.such.tensor"));
  EXPECT_EQ(set->shards_opened(), 1u);
  ASSERT_TRUE(set->find("lm_head.weight"));
  EXPECT_EQ(set->shards_opened(), 2u);
  EXPECT_EQ(set->names().size(), test::tiny_tensors().size());
}

TEST(HfModelSource, OpenModelReadsTheDirectory) {
  TinyDir d(true);
  expect_error([&] { open_model(d.path()); }, {"has no tokenizer.model"});
  std::filesystem::copy_file(test::data_path("llama2-tokenizer.model"), d.dir.file("tokenizer.model"));
  const ModelSource m = open_model(d.path());
  EXPECT_EQ(m.hparams.n_layer, 2);
  EXPECT_EQ(m.hparams.n_head_kv, 1);
  EXPECT_TRUE(m.tensors->find("output.weight"));
  // The tokenizer (32000 pieces) does not fit this config's vocabulary of 32.
  expect_error([&] { m.load_vocab(); }, {"32000 pieces but config.json's vocab_size is 32"});
  // A padded vocabulary: placeholder tokens for the embedding rows past the tokenizer's.
  json c = test::tiny_config();
  c["vocab_size"] = 32003;
  test::write_text(d.dir.file("config.json"), c.dump());
  const Vocab v = open_model(d.path()).load_vocab();
  ASSERT_EQ(v.size(), 32003);
  EXPECT_EQ(v.tokens[32002], "[PAD32002]");
  EXPECT_EQ(v.types[32000], TokenType::Unused);
}

TEST(HfModelSource, TiedEmbeddings) {
  json c = test::tiny_config();
  c["tie_word_embeddings"] = true;
  TinyDir d(false, c);
  const auto set = std::make_shared<const hf::CheckpointSet>(hf::CheckpointSet::open(d.path()));
  HfTensorSource tied(set, hparams_from_hf_config(config_of(c)), true);
  EXPECT_FALSE(tied.find("output.weight"));
}

TEST(HfModelErrors, MissingShardAndTensors) {
  {
    TinyDir d(true);
    std::filesystem::remove(d.dir.file("model-00002-of-00002.safetensors"));
    expect_error([&] { hf::CheckpointSet::open(d.path()); },
                 {"model.safetensors.index.json", "missing shard model-00002-of-00002.safetensors"});
  }
  {
    // The index names a tensor its shard does not hold.
    TinyDir d(true);
    json idx = json::parse(test::read_bytes(d.dir.file("model.safetensors.index.json")));
    idx["weight_map"]["model.layers.0.extra.weight"] = "model-00001-of-00002.safetensors";
    test::write_text(d.dir.file("model.safetensors.index.json"), idx.dump());
    const auto set = hf::CheckpointSet::open(d.path());
    expect_error([&] { set.find("model.embed_tokens.weight"); },
                 {"maps tensor model.layers.0.extra.weight to model-00001-of-00002.safetensors",
                  "does not hold it"});
  }
  {
    TinyDir d(true);
    test::write_text(d.dir.file("model.safetensors.index.json"),
                     R"({"weight_map": {"a": "../../etc/passwd"}})");
    expect_error([&] { hf::CheckpointSet::open(d.path()); }, {"not a file inside the model directory"});
    test::write_text(d.dir.file("model.safetensors.index.json"), R"({"metadata": {}})");
    expect_error([&] { hf::CheckpointSet::open(d.path()); }, {"missing field weight_map"});
  }
  {
    test::TempDir empty;
    const auto dir = std::filesystem::path(empty.file("x")).parent_path().string();
    expect_error([&] { hf::CheckpointSet::open(dir); }, {"holds no weights"});
  }
  {
    // A missing lm_head when the embeddings are not tied; a tensor with a wrong dtype.
    TinyDir d(false);
    auto tensors = test::tiny_tensors();
    tensors.pop_back();
    tensors[1].dtype = "I32";
    test::write_bytes(d.dir.file("model.safetensors"), test::safetensors_file(tensors));
    const auto set = std::make_shared<const hf::CheckpointSet>(hf::CheckpointSet::open(d.path()));
    HfTensorSource src(set, hparams_from_hf_config(config_of(test::tiny_config())), false);
    expect_error([&] { src.find("output.weight"); }, {"no tensor lm_head.weight", "tie_word_embeddings"});
    expect_error([&] { src.find("blk.0.attn_norm.weight"); },
                 {"unsupported dtype I32 for tensor model.layers.0.input_layernorm.weight"});
  }
}

}  // namespace
}  // namespace llmpipe

namespace llmpipe {
namespace {

TEST(HfModelDtype, ConvertsMatricesKeepsNormsF32) {
  TinyDir d(false);
  const auto set = std::make_shared<const hf::CheckpointSet>(hf::CheckpointSet::open(d.path()));
  auto hf_src = std::make_shared<HfTensorSource>(
      set, hparams_from_hf_config(hf::read_hf_config(d.dir.file("config.json"))), false);
  const ConvertingTensorSource q8(hf_src, DType::Q8_0);
  // ffn_down rows hold n_ff = 32 values: one Q8_0 block each.
  const auto down = q8.find("blk.0.ffn_down.weight");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->dtype, DType::Q8_0);
  EXPECT_EQ(down->bytes, 8u * sizeof(BlockQ8_0));
  const HostTensor t = q8.load("blk.0.ffn_down.weight");
  EXPECT_EQ(t.desc.bytes, down->bytes);
  // Each block against Q8_0's definition, recomputed here in float64: the scale is the F16 of
  // amax / 127, and every value is within half a step of its original plus the scale's F16
  // rounding over at most 127 steps: |x - q·d16| <= d/2 + 127·d·2^-11 < 0.57·d. (The exact
  // bytes are compared with gguf-py's quantizer in test_hf_models.sh.)
  const auto ref = floats(hf_src->load("blk.0.ffn_down.weight"));
  const auto* blocks = static_cast<const BlockQ8_0*>(t.data);
  std::vector<float> row(32);
  for (int b = 0; b < 8; ++b) {
    double amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::abs(double(ref[size_t(32 * b + i)])));
    const double d = amax / 127;
    EXPECT_EQ(blocks[b].d, f32_to_f16(float(d))) << "block " << b;
    cpu::dequantize_row_f32(DType::Q8_0, &blocks[b], row.data(), 32);
    for (int i = 0; i < 32; ++i)
      EXPECT_LE(std::abs(double(row[size_t(i)]) - ref[size_t(32 * b + i)]), 0.57 * d)
          << "block " << b << " value " << i;
  }
  // Rows of 8 are not whole Q8_0 blocks: stored type kept. Norms: F32.
  EXPECT_EQ(q8.find("blk.0.attn_q.weight")->dtype, DType::F32);
  EXPECT_EQ(q8.find("blk.0.attn_norm.weight")->dtype, DType::F32);
  const ConvertingTensorSource bf(hf_src, DType::BF16);
  const HostTensor q = bf.load("blk.0.attn_q.weight");
  EXPECT_EQ(q.desc.dtype, DType::BF16);
  EXPECT_EQ(q.desc.bytes, 64u * 2);
  // Converted after the RoPE row reorder: row 1 is HF row 2 (value 2000 + 16).
  uint16_t first_of_row1;
  std::memcpy(&first_of_row1, static_cast<const uint8_t*>(q.data) + 16, 2);
  EXPECT_EQ(bf16_to_f32(first_of_row1), 2016.0f);
  EXPECT_EQ(bf.list().size(), hf_src->list().size());
  expect_error([] { weight_dtype_from_name("int4"); }, {"unknown weight type 'int4'"});
  EXPECT_FALSE(weight_dtype_from_name("keep"));
}

}  // namespace
}  // namespace llmpipe
