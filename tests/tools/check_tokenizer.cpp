// Checks llmpipe's tokenizer against Hugging Face tokenizers' ids (make_hf_tokenizer.py's
// cases.jsonl), loading the vocabulary from the GGUF and from the tokenizer.json built from it:
//   check_tokenizer VOCAB.gguf HF_DIR [--json-only]
// Every case: both encodes (special tokens parsed, as tokenizers' encode matches added tokens)
// equal tokenizers' ids, and decode(encode(text)) == text where no control token is in it.
// --json-only: the tokenizer.json alone (its pre-tokenizer is not the GGUF's).
// Exit status 1 on any difference, with the first ones printed.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "tokenizer/tokenizer.h"

using namespace llmpipe;

namespace {

std::string ids_string(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ' ';
    s += std::to_string(ids[i]);
  }
  s += ']';
  return s;
}

struct Checker {
  const char* name;
  const Tokenizer& tok;
  int failures = 0;

  void check(const std::string& text, const std::vector<int32_t>& expected) {
    const auto ids = tok.encode(text, false, /*parse_special=*/true);
    if (ids != expected)
      report(text, "encode " + ids_string(ids) + ", tokenizers " + ids_string(expected));
    bool control = false;
    for (int32_t id : ids) control = control || tok.is_control(id);
    if (!control && tok.decode(ids) != text)
      report(text, "decode gives " + nlohmann::json(tok.decode(ids)).dump());
  }
  void report(const std::string& text, const std::string& what) {
    if (++failures <= 8)
      std::printf("%s: %s: %s\n", name, nlohmann::json(text).dump().c_str(), what.c_str());
  }
};

}  // namespace

namespace {

std::string describe(const Tokenizer& t) {
  return "bos " + std::to_string(t.bos_id()) + " eos " + std::to_string(t.eos_id()) + " add_bos " +
         std::to_string(t.vocab().add_bos) + " pre '" + t.vocab().pre + "' ignore_merges " +
         std::to_string(t.vocab().ignore_merges);
}

bool same_setup(const Tokenizer& a, const Tokenizer& b) {
  return a.bos_id() == b.bos_id() && a.eos_id() == b.eos_id() &&
         a.vocab().add_bos == b.vocab().add_bos && a.vocab().pre == b.vocab().pre &&
         a.vocab().ignore_merges == b.vocab().ignore_merges;
}

int run(const std::string& gguf_path, const std::string& dir, bool json_only) {
  const Tokenizer from_json(
      vocab_from_hf_tokenizer_json(dir + "/tokenizer.json", dir + "/tokenizer_config.json"));
  std::printf("tokenizer.json: %s\n", describe(from_json).c_str());
  std::optional<Tokenizer> from_gguf;
  if (!json_only) {
    from_gguf.emplace(vocab_from_gguf(gguf::Reader::open(gguf_path)));
    if (!same_setup(from_json, *from_gguf)) {
      std::printf("differs from the GGUF: %s\n", describe(*from_gguf).c_str());
      return 1;
    }
  }
  std::optional<Checker> g;
  if (from_gguf) g.emplace(Checker{"gguf", *from_gguf});
  Checker j{"tokenizer.json", from_json};
  std::ifstream cases(dir + "/cases.jsonl");
  int n = 0;
  for (std::string line; std::getline(cases, line); ++n) {
    const auto c = nlohmann::json::parse(line);
    const auto text = c["text"].get<std::string>();
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    if (g) g->check(text, ids);
    j.check(text, ids);
  }
  const int gguf_failures = g ? g->failures : 0;
  std::printf("%s: %d cases, %s%d differences from tokenizer.json\n", dir.c_str(), n,
              g ? (std::to_string(gguf_failures) + " differences from the GGUF, ").c_str() : "",
              j.failures);
  return n > 0 && gguf_failures == 0 && j.failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool json_only = argc == 4 && std::string(argv[3]) == "--json-only";
  if (argc != 3 && !json_only) {
    std::fprintf(stderr, "usage: check_tokenizer VOCAB.gguf HF_DIR [--json-only]\n");
    return 2;
  }
  try {
    return run(argv[1], argv[2], json_only);
  } catch (const Error& e) {
    std::fprintf(stderr, "check_tokenizer: %s\n", e.what());
    return 1;
  }
}
