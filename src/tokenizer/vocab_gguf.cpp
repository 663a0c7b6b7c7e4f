#include <string>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab.h"

namespace llmpipe {

namespace {
const gguf::Array& required_array(const gguf::Reader& f, const char* key) {
  const auto* a = f.get_array(key);
  if (!a) fail(f.path(), ": missing metadata key ", key, " (the model has no tokenizer)");
  return *a;
}

std::vector<std::string> string_array(const gguf::Reader& f, const char* key) {
  const auto& a = required_array(f, key);
  if (a.type != gguf::ValueType::String) fail(f.path(), ": ", key, " must be an array of strings");
  std::vector<std::string> out;
  out.reserve(a.items.size());
  for (const auto& t : a.items) out.push_back(std::get<std::string>(t.v));
  return out;
}

int32_t token_id(const gguf::Reader& f, const char* key, int32_t fallback, int32_t n) {
  const auto v = f.get_int(key);
  if (!v) return fallback;
  if (*v < 0 || *v >= n) fail(f.path(), ": ", key, " = ", *v, " is outside the vocabulary of ", n);
  return int32_t(*v);
}

// An optional id: absent, or -1/0xFFFFFFFF (llama.cpp's "none"), is nullopt.
std::optional<int32_t> optional_id(const gguf::Reader& f, const char* key, int32_t n) {
  const auto v = f.get_int(key);
  if (!v || *v == -1 || *v == int64_t(0xFFFFFFFF)) return std::nullopt;
  if (*v < 0 || *v >= n) fail(f.path(), ": ", key, " = ", *v, " is outside the vocabulary of ", n);
  return int32_t(*v);
}

void read_scores(const gguf::Reader& f, Vocab& v) {
  const size_t n = v.tokens.size();
  v.scores.assign(n, 0.0f);
  const auto* scores = f.get_array("tokenizer.ggml.scores");
  if (!scores) return;
  if (scores->items.size() != n)
    fail(f.path(), ": tokenizer.ggml.scores has ", scores->items.size(), " entries, expected ", n);
  for (size_t i = 0; i < n; ++i) {
    if (!scores->items[i].is_number()) fail(f.path(), ": tokenizer.ggml.scores must be numbers");
    v.scores[i] = float(scores->items[i].as_double());
  }
}

void read_types(const gguf::Reader& f, Vocab& v) {
  const size_t n = v.tokens.size();
  v.types.assign(n, TokenType::Normal);
  const auto* types = f.get_array("tokenizer.ggml.token_type");
  if (!types) return;
  if (types->items.size() != n)
    fail(f.path(), ": tokenizer.ggml.token_type has ", types->items.size(), " entries, expected ",
         n);
  for (size_t i = 0; i < n; ++i) {
    if (!types->items[i].is_integer())
      fail(f.path(), ": tokenizer.ggml.token_type must be integers");
    const int64_t t = types->items[i].as_int();
    if (t < 0 || t > 6) fail(f.path(), ": token ", i, " has unknown type ", t);
    v.types[i] = TokenType(t);
  }
}

// gpt2 vocabularies: merges and the pre-tokenizer's name (llama.cpp's tokenizer.ggml.pre).
void read_byte_level(const gguf::Reader& f, Vocab& v) {
  v.model = VocabModel::ByteLevelBpe;
  v.merges = string_array(f, "tokenizer.ggml.merges");
  const auto pre = f.get_string("tokenizer.ggml.pre");
  if (!pre)
    fail(f.path(),
         ": missing metadata key tokenizer.ggml.pre (the byte-level BPE pre-tokenizer); "
         "supported: ",
         detail::supported_pre_tokenizers());
  try {
    v.pre_patterns = detail::pre_tokenizer_patterns(*pre);
  } catch (const Error& e) {
    fail(f.path(), ": ", e.what());
  }
  v.pre = detail::pre_tokenizer_name(v.pre_patterns);  // the canonical name of an alias
  // LLaMA 3's and Tekken's tokenizer.json set ignore_merges; llama.cpp ties it to the name.
  v.ignore_merges = v.pre == "llama-bpe" || v.pre == "tekken";
}
}  // namespace

Vocab vocab_from_gguf(const gguf::Reader& f) {
  const auto model = f.get_string("tokenizer.ggml.model");
  if (!model)
    fail(f.path(), ": missing metadata key tokenizer.ggml.model (the model has no tokenizer)");
  if (*model != "llama" && *model != "gpt2")
    fail(f.path(), ": unsupported tokenizer model '", *model,
         "' (tokenizer.ggml.model): supported are 'llama' (SentencePiece) and 'gpt2' (byte-level "
         "BPE)");
  Vocab v;
  v.tokens = string_array(f, "tokenizer.ggml.tokens");
  if (v.tokens.empty()) fail(f.path(), ": tokenizer.ggml.tokens is empty");
  read_scores(f, v);
  read_types(f, v);
  const bool byte_level = *model == "gpt2";
  if (byte_level) read_byte_level(f, v);
  const int32_t size = v.size();
  v.bos_id = token_id(f, "tokenizer.ggml.bos_token_id", byte_level ? 0 : 1, size);
  v.eos_id = token_id(f, "tokenizer.ggml.eos_token_id", byte_level ? v.bos_id : 2, size);
  v.unk_id = token_id(f, "tokenizer.ggml.unknown_token_id", 0, size);
  v.pad_id = optional_id(f, "tokenizer.ggml.padding_token_id", size);
  v.eot_id = optional_id(f, "tokenizer.ggml.eot_token_id", size);
  v.eom_id = optional_id(f, "tokenizer.ggml.eom_token_id", size);
  v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(!byte_level);
  // llama.cpp's defaults: SentencePiece adds BOS, byte-level BPE only for LLaMA 3 and Tekken.
  const bool bos_default = !byte_level || v.pre == "llama-bpe" || v.pre == "tekken";
  v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(bos_default);
  v.chat_template = f.get_string("tokenizer.chat_template").value_or("");
  return v;
}

void write_vocab_gguf(gguf::Writer& w, const Vocab& v) {
  const bool byte_level = v.model == VocabModel::ByteLevelBpe;
  w.set_string("tokenizer.ggml.model", byte_level ? "gpt2" : "llama");
  if (byte_level) {
    if (v.pre.empty())
      fail(
          "the tokenizer's pre-tokenizer regexes are none that GGUF names (tokenizer.ggml.pre); "
          "supported: ",
          detail::supported_pre_tokenizers());
    w.set_string("tokenizer.ggml.pre", v.pre);
  }
  w.set_string_array("tokenizer.ggml.tokens", v.tokens);
  if (!byte_level) w.set_f32_array("tokenizer.ggml.scores", v.scores);
  std::vector<int32_t> types;
  types.reserve(v.types.size());
  for (TokenType t : v.types) types.push_back(int32_t(t));
  w.set_i32_array("tokenizer.ggml.token_type", types);
  if (byte_level) w.set_string_array("tokenizer.ggml.merges", v.merges);
  w.set_u32("tokenizer.ggml.bos_token_id", uint32_t(v.bos_id));
  w.set_u32("tokenizer.ggml.eos_token_id", uint32_t(v.eos_id));
  if (!byte_level) w.set_u32("tokenizer.ggml.unknown_token_id", uint32_t(v.unk_id));
  if (v.pad_id) w.set_u32("tokenizer.ggml.padding_token_id", uint32_t(*v.pad_id));
  if (v.eot_id) w.set_u32("tokenizer.ggml.eot_token_id", uint32_t(*v.eot_id));
  if (v.eom_id) w.set_u32("tokenizer.ggml.eom_token_id", uint32_t(*v.eom_id));
  w.set_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w.set_bool("tokenizer.ggml.add_eos_token", false);
  w.set_bool("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  if (!v.chat_template.empty()) w.set_string("tokenizer.chat_template", v.chat_template);
}

}  // namespace llmpipe
