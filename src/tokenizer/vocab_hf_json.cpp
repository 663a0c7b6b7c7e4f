// Hugging Face `tokenizer.json` (the "fast" tokenizer transformers uses) for byte-level BPE
// models, with `tokenizer_config.json` for the special tokens and the chat template.
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab.h"

namespace llmpipe {

namespace {

using nlohmann::json;

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open ", path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

json parse_json(std::string_view text, const std::string& where) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    fail(where, ": not valid JSON: ", e.what());
  }
}

const json& field(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) fail(where, ": missing \"", key, "\"");
  return j[key];
}

std::string string_field(const json& j, const char* key, const std::string& where) {
  const json& v = field(j, key, where);
  if (!v.is_string()) fail(where, ": \"", key, "\" must be a string, not ", v.type_name());
  return v.get<std::string>();
}

// A literal as a regex (Split's {"String": ...} pattern).
std::string quote_regex(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}-/").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

struct PreTokenizerSpec {
  std::vector<std::string> patterns;
  bool byte_level = false;
  bool add_prefix_space = false;
};

void read_pre_tokenizer(const json& p, const std::string& where, PreTokenizerSpec& spec) {
  const std::string type = string_field(p, "type", where);
  if (type == "Sequence") {
    const json& items = field(p, "pretokenizers", where);
    if (!items.is_array()) fail(where, ": Sequence.pretokenizers must be an array");
    for (const json& item : items) read_pre_tokenizer(item, where, spec);
  } else if (type == "Split") {
    const json& pattern = field(p, "pattern", where);
    const std::string behavior = p.value("behavior", "Isolated");
    if (behavior != "Isolated" || p.value("invert", false))
      fail(where, ": Split with behavior ", behavior, p.value("invert", false) ? " (inverted)" : "",
           " is not supported (only Isolated, not inverted)");
    if (pattern.contains("Regex"))
      spec.patterns.push_back(string_field(pattern, "Regex", where));
    else
      spec.patterns.push_back(quote_regex(string_field(pattern, "String", where)));
  } else if (type == "ByteLevel") {
    spec.byte_level = true;
    spec.add_prefix_space = p.value("add_prefix_space", false);
    if (p.value("use_regex", true)) spec.patterns.push_back(detail::gpt2_pattern());
  } else {
    fail(where, ": unsupported pre-tokenizer type '", type,
         "' (supported: byte-level BPE with Sequence, Split, ByteLevel)");
  }
}

void read_normalizer(const json& n, const std::string& where) {
  if (n.is_null()) return;
  const std::string type = string_field(n, "type", where);
  // NFC leaves text that is already NFC (nearly all text) unchanged; like llama.cpp, we do not
  // normalize, so only decomposed input can tokenize differently.
  if (type == "NFC") return;
  fail(where, ": unsupported normalizer '", type,
       "' (a byte-level BPE tokenizer.json has none or NFC)");
}

std::pair<std::string, std::string> split_merge(const json& m, const std::string& where) {
  if (m.is_string()) return {m.get<std::string>(), ""};
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
    return {m[0].get<std::string>(), m[1].get<std::string>()};
  fail(where, ": a merge must be \"left right\" or [left, right], not ", m.dump());
}

void read_model(const json& model, const std::string& where, Vocab& v) {
  const std::string type = string_field(model, "type", where);
  if (type != "BPE")
    fail(where, ": unsupported tokenizer model type '", type,
         "' (supported: BPE, byte-level; WordPiece, Unigram and WordLevel are not)");
  if (model.value("byte_fallback", false) ||
      !model.value("continuing_subword_prefix", json()).is_null() ||
      !model.value("end_of_word_suffix", json()).is_null())
    fail(where,
         ": BPE with byte_fallback, continuing_subword_prefix or end_of_word_suffix is not "
         "byte-level BPE (not supported)");
  const json& vocab = field(model, "vocab", where);
  if (!vocab.is_object()) fail(where, ": model.vocab must be an object of token -> id");
  for (const auto& [text, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > (1 << 22))
      fail(where, ": token ", json(text).dump(), " has id ", id.dump(), ", expected 0..2^22");
    const size_t i = id.get<size_t>();
    if (i >= v.tokens.size()) v.tokens.resize(i + 1);
    v.tokens[i] = text;
  }
  v.ignore_merges = model.value("ignore_merges", false);
  for (const json& m : field(model, "merges", where)) {
    auto [left, right] = split_merge(m, where);
    v.merges.push_back(right.empty() ? left : left + " " + right);
  }
}

void read_added_tokens(const json& added, const std::string& where, Vocab& v) {
  if (added.is_null()) return;
  if (!added.is_array()) fail(where, ": added_tokens must be an array");
  for (const json& t : added) {
    const int64_t id = field(t, "id", where).get<int64_t>();
    if (id < 0 || id > (1 << 22)) fail(where, ": added token id ", id, " is out of range");
    if (size_t(id) >= v.tokens.size()) {
      v.tokens.resize(size_t(id) + 1);
      v.types.resize(size_t(id) + 1, TokenType::Unused);
    }
    v.tokens[size_t(id)] = string_field(t, "content", where);
    v.types[size_t(id)] = t.value("special", false) ? TokenType::Control : TokenType::UserDefined;
  }
}

// bos_token / eos_token in tokenizer_config.json: a string, an AddedToken object or null.
std::optional<std::string> token_field(const json& config, const char* key) {
  if (!config.contains(key)) return std::nullopt;
  const json& t = config[key];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_object() && t.contains("content") && t["content"].is_string())
    return t["content"].get<std::string>();
  return std::nullopt;
}

std::optional<int32_t> find_token(const Vocab& v, const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  for (int32_t id = 0; id < v.size(); ++id)
    if (v.tokens[size_t(id)] == *text) return id;
  return std::nullopt;
}

// The token a TemplateProcessing post-processor puts before a single sequence, if any.
std::optional<std::string> template_prefix_token(const json& p) {
  if (!p.is_object()) return std::nullopt;
  if (p.value("type", "") == "Sequence" && p.contains("processors"))
    for (const json& q : p["processors"])
      if (auto t = template_prefix_token(q)) return t;
  if (p.value("type", "") != "TemplateProcessing" || !p.contains("single")) return std::nullopt;
  const json& single = p["single"];
  if (!single.is_array() || single.empty() || !single[0].contains("SpecialToken"))
    return std::nullopt;
  return single[0]["SpecialToken"].value("id", "");
}

std::string chat_template_of(const json& config, const std::string& where) {
  if (!config.contains("chat_template")) return "";
  const json& t = config["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  // Several named templates: the one named "default" (as transformers picks).
  if (t.is_array())
    for (const json& item : t)
      if (item.value("name", "") == "default") return item.value("template", "");
  if (t.is_null()) return "";
  fail(where, ": chat_template must be a string or a list of {name, template}");
}

void read_config(const json& config, const std::string& where, const json& post, Vocab& v) {
  const auto prefix = template_prefix_token(post);
  // Without a bos_token, the token the post-processor puts first is the BOS (LLaMA 3 style).
  auto bos = find_token(v, token_field(config, "bos_token"));
  if (!bos) bos = find_token(v, prefix);
  const auto eos = find_token(v, token_field(config, "eos_token"));
  if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean())
    v.add_bos = config["add_bos_token"].get<bool>();
  else
    v.add_bos = prefix && bos && v.tokens[size_t(*bos)] == *prefix;
  // Models without a BOS (Qwen) use eos where a BOS is needed (perplexity's chunk start).
  v.eos_id = eos.value_or(bos.value_or(0));
  v.bos_id = bos.value_or(v.eos_id);
  if (!bos) v.add_bos = false;
  v.chat_template = chat_template_of(config, where);
}

Vocab read_tokenizer(const json& j, const std::string& path, const json& config,
                     const std::string& config_path) {
  if (!j.is_object()) fail(path, ": expected a JSON object");
  Vocab v;
  v.model = VocabModel::ByteLevelBpe;
  read_model(field(j, "model", path), path, v);
  v.types.assign(v.tokens.size(), TokenType::Normal);
  read_added_tokens(j.value("added_tokens", json()), path, v);
  read_normalizer(j.value("normalizer", json()), path);
  PreTokenizerSpec spec;
  if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null())
    read_pre_tokenizer(j["pre_tokenizer"], path, spec);
  if (!spec.byte_level || spec.patterns.empty())
    fail(path,
         ": the BPE tokenizer is not byte-level (no ByteLevel pre-tokenizer with a split "
         "regex); only byte-level BPE tokenizer.json files are supported");
  v.pre_patterns = spec.patterns;
  v.pre = detail::pre_tokenizer_name(v.pre_patterns);
  v.add_space_prefix = spec.add_prefix_space;
  // Ids no token claims (gaps between the vocabulary and the added tokens): placeholders.
  for (size_t id = 0; id < v.tokens.size(); ++id)
    if (v.tokens[id].empty()) {
      v.tokens[id] = "[PAD" + std::to_string(id) + "]";
      v.types[id] = TokenType::Unused;
    }
  if (v.tokens.empty()) fail(path, ": the vocabulary is empty");
  v.scores.assign(v.tokens.size(), 0.0f);
  read_config(config, config_path, j.value("post_processor", json()), v);
  return v;
}

}  // namespace

Vocab vocab_from_hf_tokenizer_json(const std::string& path, const std::string& config_path) {
  return vocab_from_hf_tokenizer_json_text(
      read_text(path), config_path.empty() ? "" : read_text(config_path), path, config_path);
}

Vocab vocab_from_hf_tokenizer_json_text(std::string_view tokenizer_json,
                                        std::string_view config_json, const std::string& path,
                                        const std::string& config_path) {
  try {
    return read_tokenizer(
        parse_json(tokenizer_json, path), path,
        config_json.empty() ? json::object() : parse_json(config_json, config_path), config_path);
  } catch (const json::exception& e) {  // a value of the wrong JSON type somewhere
    fail(path, ": unexpected content: ", e.what());
  }
}

}  // namespace llmpipe
