// libFuzzer: a Hugging Face tokenizer.json (the bytes before the first NUL) and optionally a
// tokenizer_config.json (after it); when they parse, the tokenizer is built (its regexes
// compiled, its merges indexed) and encodes and decodes a varied text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view json = all.substr(0, nul);
  const std::string_view config = nul == std::string_view::npos ? "" : all.substr(nul + 1);
  try {
    const llmpipe::Tokenizer tok(llmpipe::vocab_from_hf_tokenizer_json_text(
        json, config, "tokenizer.json", "tokenizer_config.json"));
    const auto ids = tok.encode("Hello, world! 123  \n\t日本語 🦙 it's <|end|>", true, true);
    (void)tok.decode(ids);
  } catch (const llmpipe::Error&) {
  }
  return 0;
}
