// Loading a LLaMA from GGUF at the model level, on tiny random models (tiny_model.h): every
// defect is an error naming what is wrong (missing tensor, wrong shape with expected and actual,
// missing hyper-parameter, unsupported architecture), and valid tiny models in every weight
// dtype, with and without a tied lm_head, run a forward pass that matches an independent
// float64 computation on the stored weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/packed_weights.h"
#include "llama_f64_reference.h"
#include "model/llama_stage.h"
#include "model/model_source.h"
#include "model/stage_weights.h"
#include "test_helpers.h"
#include "tiny_model.h"

namespace llmpipe {
namespace {

StageSpec whole_model(const LlamaHParams& h) { return {{0, h.n_layer}, true, true}; }

// One backend for the whole test program: StageWeights may hold buffers of the backend that
// loaded them, so it must outlive every StageWeights returned by load().
CpuBackend& shared_backend() {
  static CpuBackend backend({.threads = 1});
  return backend;
}

// Opens `path` and loads the weights of `spec` (default: the whole model) on a CPU backend.
StageWeights load(const std::string& path, std::optional<StageSpec> spec = std::nullopt) {
  const auto m = open_model(path);
  return load_stage_weights(*m.tensors, m.hparams, spec.value_or(whole_model(m.hparams)),
                            shared_backend());
}

TEST(GgufModelLoad, TinyModelOpensWithItsHyperParameters) {
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  const auto tiny = test::write_tiny_llama(path);
  const auto m = open_model(path);
  EXPECT_EQ(m.name, "tiny-llama-test");
  EXPECT_EQ(m.hparams.n_vocab, tiny.hparams.n_vocab);  // from token_embd: no tokenizer written
  EXPECT_EQ(m.hparams.n_embd, 64);
  EXPECT_EQ(m.hparams.n_layer, 2);
  EXPECT_EQ(m.hparams.n_head, 4);
  EXPECT_EQ(m.hparams.n_head_kv, 2);
  EXPECT_EQ(m.hparams.n_ff, 96);
  EXPECT_EQ(m.hparams.n_ctx_train, 128);
  const auto w = load(path);
  EXPECT_EQ(w.layers.size(), 2u);
  EXPECT_EQ(w.tensor_names.size(), 3u + 2u * 9u);
  EXPECT_FALSE(w.tied_output);
}

TEST(GgufModelLoad, MissingTensorIsNamed) {
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  test::TinyLlamaOptions o;
  o.omit_tensors = {"blk.1.ffn_up.weight"};
  test::write_tiny_llama(path, o);
  test::expect_error([&] { load(path); }, {path, "missing tensor blk.1.ffn_up.weight"});
  // A stage that does not hold layer 1 never looks for it: each stage maps only its own tensors.
  EXPECT_NO_THROW(load(path, StageSpec{{0, 1}, true, false}));
  test::expect_error([&] { load(path, StageSpec{{1, 2}, false, true}); },
                     {"missing tensor blk.1.ffn_up.weight"});
}

TEST(GgufModelLoad, MissingGlobalTensorsAreNamed) {
  for (const std::string name : {"output_norm.weight", "blk.0.attn_norm.weight"}) {
    test::TempDir dir;
    const auto path = dir.file("tiny.gguf");
    test::TinyLlamaOptions o;
    o.omit_tensors = {name};
    test::write_tiny_llama(path, o);
    test::expect_error([&] { load(path); }, {"missing tensor " + name});
  }
}

TEST(GgufModelLoad, WrongShapeNamesTensorExpectedAndActual) {
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  test::TinyLlamaOptions o;
  // K projection as if there were no grouped-query attention: [64, 64] instead of [64, 32].
  o.shape_overrides = {{"blk.0.attn_k.weight", {64, 64}}};
  test::write_tiny_llama(path, o);
  test::expect_error([&] { load(path); },
                     {"tensor blk.0.attn_k.weight", "has shape [64, 64]", "expected [64, 32]"});

  // Transposed feed-forward down projection, and a norm with one dimension too many.
  o.shape_overrides = {{"blk.1.ffn_down.weight", {64, 96}}};
  test::write_tiny_llama(path, o);
  test::expect_error([&] { load(path); },
                     {"tensor blk.1.ffn_down.weight", "has shape [64, 96]", "expected [96, 64]"});
  o.shape_overrides = {{"output_norm.weight", {64, 1}}};
  test::write_tiny_llama(path, o);
  test::expect_error([&] { load(path); },
                     {"tensor output_norm.weight", "has shape [64, 1]", "expected [64]"});
}

TEST(GgufModelLoad, WrongTokenEmbeddingShapeIsCaught) {
  // n_vocab comes from token_embd itself here, so make its width wrong instead.
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  test::TinyLlamaOptions o;
  o.shape_overrides = {{"token_embd.weight", {32, 32}}};
  test::write_tiny_llama(path, o);
  test::expect_error([&] { load(path); },
                     {"tensor token_embd.weight", "has shape [32, 32]", "expected [64, 32]"});
}

TEST(GgufModelLoad, MissingHyperParameterKeyIsNamed) {
  for (const std::string key : {"llama.context_length", "llama.embedding_length",
                                "llama.block_count", "llama.attention.head_count",
                                "llama.feed_forward_length"}) {
    test::TempDir dir;
    const auto path = dir.file("tiny.gguf");
    test::TinyLlamaOptions o;
    o.omit_keys = {key};
    test::write_tiny_llama(path, o);
    test::expect_error([&] { (void)open_model(path); }, {path, "missing metadata key " + key});
  }
}

TEST(GgufModelLoad, HyperParameterOfWrongTypeIsNamed) {
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  test::TinyLlamaOptions o;
  o.override_keys = {{"llama.block_count", gguf::Value{std::string("2")}}};
  test::write_tiny_llama(path, o);
  test::expect_error([&] { (void)open_model(path); },
                     {"metadata key llama.block_count", "should be an integer", "is string"});
  o.override_keys = {{"general.architecture", gguf::Value{uint32_t(1)}}};
  test::write_tiny_llama(path, o);
  test::expect_error([&] { (void)open_model(path); },
                     {"metadata key general.architecture", "should be a string", "is u32"});
}

TEST(GgufModelLoad, PartialRopeIsRejected) {
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  test::TinyLlamaOptions o;
  o.override_keys = {{"llama.rope.dimension_count", gguf::Value{uint32_t(8)}}};  // head_dim 16
  test::write_tiny_llama(path, o);
  test::expect_error([&] { (void)open_model(path); },
                     {"llama.rope.dimension_count = 8", "partial RoPE is not supported"});
}

TEST(GgufModelLoad, OptionalHyperParametersTakeDefaults) {
  // head_count_kv defaults to head_count (no GQA), epsilon to 1e-5, rope dims to head_dim.
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  test::TinyLlamaOptions o;
  o.n_head_kv = 4;
  o.omit_keys = {"llama.attention.head_count_kv", "llama.attention.layer_norm_rms_epsilon",
                 "llama.rope.dimension_count"};
  test::write_tiny_llama(path, o);
  const auto m = open_model(path);
  EXPECT_EQ(m.hparams.n_head_kv, 4);
  EXPECT_FLOAT_EQ(m.hparams.rms_eps, 1e-5f);
  EXPECT_NO_THROW(load(path));
}

TEST(GgufModelLoad, UnsupportedOrMissingArchitecture) {
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  test::TinyLlamaOptions o;
  o.architecture = "mamba";
  test::write_tiny_llama(path, o);
  test::expect_error([&] { (void)open_model(path); },
                     {path, "unsupported architecture 'mamba'", "supported: llama, qwen2, qwen3"});
  o.architecture = "llama";
  o.omit_keys = {"general.architecture"};
  test::write_tiny_llama(path, o);
  test::expect_error([&] { (void)open_model(path); },
                     {"missing metadata key general.architecture"});
}

TEST(GgufModelLoad, InconsistentHyperParametersAreRejected) {
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  test::TinyLlamaOptions o;
  o.n_head = 3;  // 64 is not divisible by 3 (rope.dimension_count then also disagrees)
  o.n_head_kv = 3;
  test::write_tiny_llama(path, o);
  test::expect_error([&] { (void)open_model(path); },
                     {"embedding length 64 is not divisible by head count 3"});
}

// Writes an F32 copy of `src` holding exactly the floats the quantized file stores (TinyLlama
// keeps the dequantized weights), so the float64 reference, which reads F32 only, sees the same
// model.
void write_f32_copy(const std::string& src, const test::TinyLlama& tiny, const std::string& dst) {
  const auto r = gguf::Reader::open(src);
  gguf::Writer w;
  for (const auto& kv : r.metadata()) w.set(kv.key, kv.value);
  std::vector<std::span<const uint8_t>> data;
  for (const auto& t : r.tensors()) {
    w.add_tensor(t.name, DType::F32, t.shape);
    const auto& f = tiny.weights.at(t.name);
    data.emplace_back(reinterpret_cast<const uint8_t*>(f.data()), f.size() * sizeof(float));
  }
  w.write_all(dst, data);
}

struct ForwardCase {
  DType dtype;
  bool tied;
};

// Runs the tiny model as one stage on a 6-token prompt and compares the last token's logits with
// the float64 reference on the same stored weights. F32 KV cache and F32 accumulation: the only
// differences are float rounding (measured: at most 3.7e-6 over all cases, logits up to ~3.5 in
// magnitude), hence a 1e-4 bound.
void check_forward(const ForwardCase& c) {
  SCOPED_TRACE(std::string(dtype_name(c.dtype)) + (c.tied ? " tied" : " untied"));
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  test::TinyLlamaOptions o;
  o.dtype = c.dtype;
  o.tied_output = c.tied;
  o.seed = 7 + uint32_t(c.dtype);
  const auto tiny = test::write_tiny_llama(path, o);

  const auto m = open_model(path);
  const auto& h = m.hparams;
  // The scalar kernels: this checks loading and the reference forward exactly; the SIMD kernels
  // (which round activations to 8 bits for quantized weights) are checked against these in
  // test_cpu_kernels.cpp.
  CpuBackend backend({.threads = 2, .isa = cpu::CpuIsa::Scalar});
  const auto spec = whole_model(h);
  auto weights = load_stage_weights(*m.tensors, h, spec, backend);
  EXPECT_EQ(weights.tied_output, c.tied);
  EXPECT_EQ(weights.layers[0].wq.dtype, c.dtype);
  EXPECT_EQ(weights.layers[1].w_down.dtype, c.dtype);
  EXPECT_EQ(weights.layers[0].attn_norm.dtype, DType::F32);
  ASSERT_TRUE(weights.output.has_value());
  EXPECT_EQ(weights.output->dtype, c.dtype);
  EXPECT_EQ(weights.output->rows, h.n_vocab);
  EXPECT_EQ(weights.output->cols, h.n_embd);
  if (c.tied) {
    EXPECT_EQ(weights.output->data, weights.tok_embd->data) << "lm_head shares bytes";
  }

  LlamaStage stage(h, spec, std::move(weights), backend,
                   {h.n_layer, 1, h.n_ctx_train, h.kv_dim(), DType::F32}, 8, 1);
  const std::vector<int32_t> tokens = {1, 5, 31, 0, 17, 5};
  std::vector<int32_t> pos(tokens.size()), slots(tokens.size(), 0);
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = int32_t(i);
  const BatchLayout batch{pos, slots, 1};
  const int32_t last = int32_t(tokens.size() - 1);
  std::vector<float> got(size_t(h.n_vocab));
  backend.to_host(got, stage.forward(batch, tokens, std::span(&last, 1)));

  const auto f32_path = dir.file("tiny-f32.gguf");
  write_f32_copy(path, tiny, f32_path);
  const auto f32_file = gguf::Reader::open(f32_path);
  test::LlamaF64 ref(f32_file);
  const auto want = ref.last_logits(tokens);
  ASSERT_EQ(want.size(), got.size());
  double max_diff = 0, max_abs = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(std::isfinite(got[i])) << "logit " << i;
    max_diff = std::max(max_diff, std::fabs(double(got[i]) - want[i]));
    max_abs = std::max(max_abs, std::fabs(want[i]));
  }
  EXPECT_LT(max_diff, 1e-4) << "largest |logit| " << max_abs;
  EXPECT_GT(max_abs, 0.1) << "logits should not be trivially small";
}

TEST(GgufModelLoad, ForwardMatchesFloat64InEveryWeightType) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0})
    check_forward({t, false});
}

TEST(GgufModelLoad, ForwardWithTiedOutputMatchesFloat64) {
  for (DType t : {DType::F32, DType::F16, DType::Q8_0, DType::Q4_0}) check_forward({t, true});
}

// Tied lm_head on a last stage that is not the first: token_embd is mapped as the output.
TEST(GgufModelLoad, TiedOutputOnALastStageThatIsNotFirst) {
  test::TempDir dir;
  const auto path = dir.file("tiny.gguf");
  test::TinyLlamaOptions o;
  o.tied_output = true;
  o.dtype = DType::Q8_0;
  test::write_tiny_llama(path, o);
  const auto w = load(path, StageSpec{{1, 2}, false, true});
  EXPECT_TRUE(w.tied_output);
  EXPECT_FALSE(w.tok_embd.has_value());
  ASSERT_TRUE(w.output.has_value());
  EXPECT_EQ(w.output->dtype, DType::Q8_0);
  EXPECT_EQ(w.output->rows, 32);
  EXPECT_NE(std::find(w.tensor_names.begin(), w.tensor_names.end(), "token_embd.weight"),
            w.tensor_names.end());
}

}  // namespace
}  // namespace llmpipe

namespace llmpipe {
namespace {

// The last token's logits of the whole model on `backend` (F32 KV cache).
std::vector<float> last_logits(const std::string& path, CpuBackend& backend, StageWeights* probe) {
  const auto m = open_model(path);
  const auto& h = m.hparams;
  auto weights = load_stage_weights(*m.tensors, h, whole_model(h), backend);
  if (probe) {  // what the caller wants to inspect of the placement
    probe->layers = weights.layers;
    probe->tok_embd = weights.tok_embd;
    probe->output = weights.output;
    probe->host.resize(weights.host.size());
  }
  LlamaStage stage(h, whole_model(h), std::move(weights), backend,
                   {h.n_layer, 1, h.n_ctx_train, h.kv_dim(), DType::F32}, 8, 1);
  const std::vector<int32_t> tokens = {1, 5, 31, 0, 17, 5};
  std::vector<int32_t> pos(tokens.size()), slots(tokens.size(), 0);
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = int32_t(i);
  const int32_t last = int32_t(tokens.size() - 1);
  std::vector<float> out(size_t(h.n_vocab));
  backend.to_host(out, stage.forward({pos, slots, 1}, tokens, std::span(&last, 1)));
  return out;
}

// Weight placement: packed (the default) repacks exactly the matmul weights where the kernels
// have a packed form (every type on AVX-512), releases their file mappings (only the embedding and norms stay
// mapped), and gives the same logits as computing from the mapping: the two kernel families
// differ only in float summation order (measured below 1e-5 on logits of magnitude ~1; bound
// 1e-4). copy releases every mapping.
TEST(GgufModelLoad, WeightPlacementsGiveTheSameLogits) {
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::F16}) {
    SCOPED_TRACE(dtype_name(t));
    test::TempDir dir;
    const auto path = dir.file("tiny.gguf");
    test::TinyLlamaOptions o;
    o.dtype = t;
    test::write_tiny_llama(path, o);
    CpuBackend mmap_be({.threads = 2, .weights = WeightPlacement::Mmap});
    CpuBackend packed_be({.threads = 2, .weights = WeightPlacement::Packed});
    CpuBackend copy_be({.threads = 2, .weights = WeightPlacement::Copy});
    StageWeights mapped, packed, copied;
    const auto want = last_logits(path, mmap_be, &mapped);
    const auto got = last_logits(path, packed_be, &packed);
    const auto got_copy = last_logits(path, copy_be, &copied);
    const size_t n_tensors = 1 + 9 * o.n_layer + 2;  // embd, 9 per layer, output norm and output
    EXPECT_EQ(mapped.host.size(), n_tensors);
    EXPECT_EQ(copied.host.size(), 0u);
    const bool packs = packed_be.isa() == cpu::CpuIsa::Avx512;
    EXPECT_EQ(packed.host.size(), packs ? size_t(1 + 2 * o.n_layer + 1) : n_tensors);
    EXPECT_EQ(packed.layers[0].wq.packed_rows, packs ? cpu::kPackRows : 0);
    EXPECT_EQ(packed.output->packed_rows, packs ? cpu::kPackRows : 0);
    EXPECT_EQ(packed.tok_embd->packed_rows, 0) << "get_rows reads the embedding row-major";
    EXPECT_EQ(packed.layers[0].attn_norm.packed_rows, 0);
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], 1e-4) << "logit " << i;
      ASSERT_EQ(got_copy[i], want[i]) << "copy: the same kernels on the same bytes";
    }
  }
}

}  // namespace
}  // namespace llmpipe
