#include <string>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "tokenizer/vocab.h"

namespace llmpipe {

namespace {
const gguf::Array& required_array(const gguf::Reader& f, const char* key) {
  const auto* a = f.get_array(key);
  if (!a) fail(f.path(), ": missing metadata key ", key, " (the model has no tokenizer)");
  return *a;
}

int32_t token_id(const gguf::Reader& f, const char* key, int32_t fallback, int32_t n) {
  const auto v = f.get_int(key);
  if (!v) return fallback;
  if (*v < 0 || *v >= n) fail(f.path(), ": ", key, " = ", *v, " is outside the vocabulary of ", n);
  return int32_t(*v);
}
}  // namespace

Vocab vocab_from_gguf(const gguf::Reader& f) {
  const auto model = f.get_string("tokenizer.ggml.model");
  if (!model) fail(f.path(), ": missing metadata key tokenizer.ggml.model (the model has no tokenizer)");
  if (*model != "llama")
    fail(f.path(), ": unsupported tokenizer model ", *model,
         ": only SentencePiece ('llama') vocabularies are supported");
  Vocab v;
  const auto& tokens = required_array(f, "tokenizer.ggml.tokens");
  if (tokens.type != gguf::ValueType::String)
    fail(f.path(), ": tokenizer.ggml.tokens must be an array of strings");
  for (const auto& t : tokens.items) v.tokens.push_back(std::get<std::string>(t.v));
  const size_t n = v.tokens.size();
  if (n == 0) fail(f.path(), ": tokenizer.ggml.tokens is empty");

  v.scores.assign(n, 0.0f);
  if (const auto* scores = f.get_array("tokenizer.ggml.scores")) {
    if (scores->items.size() != n)
      fail(f.path(), ": tokenizer.ggml.scores has ", scores->items.size(), " entries, expected ", n);
    for (size_t i = 0; i < n; ++i) {
      if (!scores->items[i].is_number()) fail(f.path(), ": tokenizer.ggml.scores must be numbers");
      v.scores[i] = float(scores->items[i].as_double());
    }
  }
  v.types.assign(n, TokenType::Normal);
  if (const auto* types = f.get_array("tokenizer.ggml.token_type")) {
    if (types->items.size() != n)
      fail(f.path(), ": tokenizer.ggml.token_type has ", types->items.size(), " entries, expected ", n);
    for (size_t i = 0; i < n; ++i) {
      if (!types->items[i].is_integer()) fail(f.path(), ": tokenizer.ggml.token_type must be integers");
      const int64_t t = types->items[i].as_int();
      if (t < 0 || t > 6) fail(f.path(), ": token ", i, " has unknown type ", t);
      v.types[i] = TokenType(t);
    }
  }
  const int32_t size = int32_t(n);
  v.bos_id = token_id(f, "tokenizer.ggml.bos_token_id", 1, size);
  v.eos_id = token_id(f, "tokenizer.ggml.eos_token_id", 2, size);
  v.unk_id = token_id(f, "tokenizer.ggml.unknown_token_id", 0, size);
  if (const auto pad = f.get_int("tokenizer.ggml.padding_token_id"); pad && *pad >= 0 && *pad < size)
    v.pad_id = int32_t(*pad);  // 0xFFFFFFFF (or absent) means none
  v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(true);
  return v;
}

}  // namespace llmpipe
