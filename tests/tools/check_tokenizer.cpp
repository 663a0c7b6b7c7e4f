// Checks llmpipe's tokenizer against Hugging Face tokenizers' ids (make_hf_tokenizer.py's
// cases.jsonl), loading the vocabulary from the GGUF and from the tokenizer.json built from it:
//   check_tokenizer VOCAB.gguf HF_DIR
// Every case: both encodes (special tokens parsed, as tokenizers' encode matches added tokens)
// equal tokenizers' ids, and decode(encode(text)) == text where no control token is in it.
// Exit status 1 on any difference, with the first ones printed.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
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

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: check_tokenizer VOCAB.gguf HF_DIR\n");
    return 2;
  }
  try {
    const std::string dir = argv[2];
    const Tokenizer from_gguf(vocab_from_gguf(gguf::Reader::open(argv[1])));
    const Tokenizer from_json(
        vocab_from_hf_tokenizer_json(dir + "/tokenizer.json", dir + "/tokenizer_config.json"));
    if (from_json.bos_id() != from_gguf.bos_id() || from_json.eos_id() != from_gguf.eos_id() ||
        from_json.vocab().add_bos != from_gguf.vocab().add_bos ||
        from_json.vocab().pre != from_gguf.vocab().pre ||
        from_json.vocab().ignore_merges != from_gguf.vocab().ignore_merges) {
      const auto describe = [](const Tokenizer& t) {
        return "bos " + std::to_string(t.bos_id()) + " eos " + std::to_string(t.eos_id()) +
               " add_bos " + std::to_string(t.vocab().add_bos) + " pre '" + t.vocab().pre +
               "' ignore_merges " + std::to_string(t.vocab().ignore_merges);
      };
      std::printf("tokenizer.json: %s; GGUF: %s\n", describe(from_json).c_str(),
                  describe(from_gguf).c_str());
      return 1;
    }
    Checker g{"gguf", from_gguf}, j{"tokenizer.json", from_json};
    std::ifstream cases(dir + "/cases.jsonl");
    int n = 0;
    for (std::string line; std::getline(cases, line); ++n) {
      const auto c = nlohmann::json::parse(line);
      const auto text = c["text"].get<std::string>();
      const auto ids = c["ids"].get<std::vector<int32_t>>();
      g.check(text, ids);
      j.check(text, ids);
    }
    std::printf("%s: %d cases, %d differences from the GGUF, %d from tokenizer.json\n", argv[1], n,
                g.failures, j.failures);
    return n > 0 && g.failures == 0 && j.failures == 0 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "check_tokenizer: %s\n", e.what());
    return 1;
  }
}
