#include "formats/hf/hf_config.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace llmpipe::hf {

using nlohmann::json;

namespace {

class Fields {
 public:
  Fields(const json& obj, const std::string& path, std::string prefix = "")
      : obj_(obj), path_(path), prefix_(std::move(prefix)) {}

  const json* get(const char* key) const {
    const auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }
  int64_t integer(const char* key, std::optional<int64_t> dflt = std::nullopt) const {
    const json* v = get(key);
    if (!v) {
      if (dflt) return *dflt;
      fail(path_, ": missing field ", prefix_, key);
    }
    if (!v->is_number_integer()) wrong(key, *v, "an integer");
    return v->get<int64_t>();
  }
  double number(const char* key, double dflt) const {
    const json* v = get(key);
    if (!v) return dflt;
    if (!v->is_number()) wrong(key, *v, "a number");
    return v->get<double>();
  }
  bool boolean(const char* key, bool dflt) const {
    const json* v = get(key);
    if (!v) return dflt;
    if (!v->is_boolean()) wrong(key, *v, "true or false");
    return v->get<bool>();
  }
  std::string string(const char* key) const {
    const json* v = get(key);
    if (!v) return "";
    if (!v->is_string()) wrong(key, *v, "a string");
    return v->get<std::string>();
  }
  // An id or a list of ids (the first is taken).
  std::optional<int64_t> token_id(const char* key) const {
    const json* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_array() && !v->empty() && (*v)[0].is_number_integer()) return (*v)[0].get<int64_t>();
    if (!v->is_number_integer()) wrong(key, *v, "a token id");
    return v->get<int64_t>();
  }
  [[noreturn]] void wrong(const char* key, const json& v, const char* expected) const {
    std::string shown = v.dump();
    if (shown.size() > 60) shown = shown.substr(0, 60) + "...";
    fail(path_, ": field ", prefix_, key, " is ", shown, " (", v.type_name(), "), expected ",
         expected);
  }

 private:
  const json& obj_;
  const std::string& path_;
  std::string prefix_;
};

}  // namespace

HfConfig parse_hf_config(const std::string& text, const std::string& path) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    fail(path, ": not valid JSON: ", e.what());
  }
  if (!root.is_object()) fail(path, ": not a JSON object");
  const Fields f(root, path);
  HfConfig c;
  c.path = path;
  c.model_type = f.string("model_type");
  if (const json* a = f.get("architectures")) {
    if (!a->is_array()) f.wrong("architectures", *a, "a list of strings");
    for (const auto& s : *a) {
      if (!s.is_string()) f.wrong("architectures", *a, "a list of strings");
      c.architectures.push_back(s.get<std::string>());
    }
  }
  c.hidden_size = f.integer("hidden_size");
  c.num_hidden_layers = f.integer("num_hidden_layers");
  c.num_attention_heads = f.integer("num_attention_heads");
  c.num_key_value_heads = f.integer("num_key_value_heads", c.num_attention_heads);
  c.intermediate_size = f.integer("intermediate_size");
  c.max_position_embeddings = f.integer("max_position_embeddings", 2048);
  c.vocab_size = f.integer("vocab_size");
  c.rms_norm_eps = f.number("rms_norm_eps", 1e-6);
  c.rope_theta = f.number("rope_theta", 10000.0);
  c.tie_word_embeddings = f.boolean("tie_word_embeddings", false);
  c.bos_token_id = f.token_id("bos_token_id");
  c.eos_token_id = f.token_id("eos_token_id");
  c.torch_dtype = f.string("torch_dtype");
  // transformers 4 writes rope_scaling (and rope_theta at the top level); transformers 5
  // writes rope_parameters, with rope_type and rope_theta inside.
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    const json* rs = f.get(key);
    if (!rs) continue;
    if (!rs->is_object()) f.wrong(key, *rs, "an object");
    const Fields r(*rs, path, cat(key, "."));
    c.rope_theta = r.number("rope_theta", c.rope_theta);
    HfRopeScaling s;
    s.type = r.string("rope_type");
    if (s.type.empty()) s.type = r.string("type");
    if (s.type.empty() && std::string_view(key) == "rope_scaling")
      fail(path, ": field rope_scaling has neither rope_type nor type");
    s.factor = r.number("factor", 1.0);
    s.low_freq_factor = r.number("low_freq_factor", 1.0);
    s.high_freq_factor = r.number("high_freq_factor", 4.0);
    s.original_max_position_embeddings = r.integer("original_max_position_embeddings", 0);
    if (!s.type.empty() && s.type != "default") c.rope_scaling = s;
  }
  // Variants no supported architecture has: refuse, naming the field.
  c.attention_bias = f.boolean("attention_bias", false);
  if (f.boolean("mlp_bias", false))
    fail(path, ": field mlp_bias is true: biased MLP projections are not supported");
  if (const std::string act = f.string("hidden_act"); !act.empty() && act != "silu")
    fail(path, ": field hidden_act is '", act, "': only silu is supported");
  if (f.get("head_dim")) c.head_dim = f.integer("head_dim");
  if (f.get("sliding_window")) c.sliding_window = f.integer("sliding_window");
  c.use_sliding_window = f.boolean("use_sliding_window", false);
  return c;
}

HfConfig read_hf_config(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open ", path);
  const std::string text{std::istreambuf_iterator<char>(f), {}};
  return parse_hf_config(text, path);
}

}  // namespace llmpipe::hf
