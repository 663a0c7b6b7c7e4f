#include "model/model_source.h"

#include <filesystem>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_tensor_source.h"
#include "formats/hf/checkpoint_set.h"
#include "formats/hf/hf_config.h"
#include "model/converting_tensor_source.h"
#include "model/hf_tensor_source.h"
#include "tokenizer/hf_tokenizer.h"

namespace llmpipe {

namespace fs = std::filesystem;

namespace {
std::string resolve_model_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("model path ", path, " does not exist");
  if (!fs::is_directory(path, ec)) return path;
  std::vector<std::string> ggufs;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (e.is_regular_file() && e.path().extension() == ".gguf") ggufs.push_back(e.path().string());
  if (ggufs.size() == 1) return ggufs[0];
  if (ggufs.empty())
    fail("model directory ", path, " holds no .gguf file and no config.json (a Hugging Face "
         "model directory has config.json, tokenizer.model and safetensors or .bin weights)");
  fail("model directory ", path, " holds ", ggufs.size(), " .gguf files: name one of them");
}

bool is_hf_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "config.json", ec);
}

ModelSource open_hf_model(const std::string& dir) {
  ModelSource m;
  m.path = dir;
  const fs::path d(dir);
  const hf::HfConfig config = hf::read_hf_config((d / "config.json").string());
  m.hparams = hparams_from_hf_config(config);
  m.name = fs::path(dir).lexically_normal().filename().string();
  if (m.name.empty() || m.name == ".") m.name = fs::absolute(d).lexically_normal().parent_path().filename().string();
  // Checked now, before any weight is read: an unsupported tokenizer fails the open.
  const auto read_vocab = hf_vocab_reader(dir);
  auto set = std::make_shared<const hf::CheckpointSet>(hf::CheckpointSet::open(dir));
  m.tensors = std::make_shared<HfTensorSource>(set, m.hparams, config.tie_word_embeddings);
  const int64_t n_vocab = m.hparams.n_vocab;
  const auto bos = config.bos_token_id, eos = config.eos_token_id;
  m.load_vocab = [read_vocab, dir, n_vocab, bos, eos] {
    Vocab v = read_vocab();
    if (v.size() > n_vocab)
      fail(dir, ": the tokenizer has ", v.size(), " pieces but config.json's vocab_size is ", n_vocab);
    // Embedding rows past the tokenizer's pieces (padded vocabularies): unused placeholder
    // tokens, as llama.cpp's converter writes them, so every id the model can emit decodes.
    for (int64_t id = v.size(); id < n_vocab; ++id) {
      v.tokens.push_back(cat("[PAD", id, "]"));
      v.scores.push_back(0.0f);
      v.types.push_back(TokenType::Unused);
    }
    // config.json's special ids win over the tokenizer's (as transformers does).
    if (bos && *bos >= 0 && *bos < v.size()) v.bos_id = int32_t(*bos);
    if (eos && *eos >= 0 && *eos < v.size()) v.eos_id = int32_t(*eos);
    return v;
  };
  return m;
}

ModelSource open_model_as_stored(const std::string& path) {
  if (is_hf_directory(path)) return open_hf_model(path);
  ModelSource m;
  m.path = resolve_model_file(path);
  auto reader = std::make_shared<const gguf::Reader>(gguf::Reader::open(m.path));
  m.hparams = hparams_from_gguf(*reader);
  m.name = reader->get_string("general.name").value_or(fs::path(m.path).stem().string());
  m.tensors = std::make_shared<GgufTensorSource>(reader);
  m.load_vocab = [reader] { return vocab_from_gguf(*reader); };
  return m;
}

}  // namespace

ModelSource open_model(const std::string& path, std::optional<DType> weight_dtype) {
  ModelSource m = open_model_as_stored(path);
  if (weight_dtype) m.tensors = std::make_shared<ConvertingTensorSource>(m.tensors, *weight_dtype);
  return m;
}

}  // namespace llmpipe
