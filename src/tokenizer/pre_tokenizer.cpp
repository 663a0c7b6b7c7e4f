#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pre_tokenizer.h"

#include <pcre2.h>

#include "core/error.h"

namespace llmpipe::detail {

namespace {

// The regexes as the models' tokenizer.json files write them (the pre-tokenizer is part of a
// model's definition: these are facts about the models, checked against their test vectors).
const std::string kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2/2.5/3: LLaMA 3's, but digits one at a time.
const std::string kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Mistral's Tekken (Nemo, Small 3): cased runs of letters, digits one at a time.
const std::string kTekken =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|)"
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|)"
    R"(\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// DeepSeek LLM: newlines, then runs of cased letters (Latin, Greek, Cyrillic, Armenian,
// Georgian...), ASCII and CJK punctuation, trailing spaces, CJK and Hangul, digits.
const std::vector<std::string> kDeepseekLlm = {
    R"([\r\n])",
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293})"
    R"(\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A})"
    R"(\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556})"
    R"(\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF})"
    R"(\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D})"
    R"(\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D})"
    R"(\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4})"
    R"(\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4})"
    R"(\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124})"
    R"(\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F})"
    R"(\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4})"
    R"(\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F})"
    R"(\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17})"
    R"(\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3})"
    R"(\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF})"
    R"(\x{1E900}-\x{1E943}]+)",
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)",
    R"(\s+$)",
    R"([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)",
    R"(\p{N}+)",
};

struct Named {
  const char* name;  // the canonical GGUF name first, then llama.cpp's aliases
  std::vector<std::string> patterns;
};
const std::vector<Named>& table() {
  static const std::vector<Named> t = {
      {"llama-bpe", {kLlama3}}, {"llama3", {kLlama3}}, {"llama-v3", {kLlama3}},
      {"smaug-bpe", {kLlama3}}, {"qwen2", {kQwen2}},   {"deepseek-r1-qwen", {kQwen2}},
      {"gpt-2", {kGpt2}},       {"tekken", {kTekken}}, {"deepseek-llm", kDeepseekLlm},
  };
  return t;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

std::vector<std::string> pre_tokenizer_patterns(const std::string& pre) {
  for (const auto& n : table())
    if (pre == n.name) return n.patterns;
  fail("unsupported byte-level BPE pre-tokenizer '", pre,
       "' (tokenizer.ggml.pre); supported: ", supported_pre_tokenizers());
}

std::string pre_tokenizer_name(const std::vector<std::string>& patterns) {
  for (const auto& n : table())
    if (patterns == n.patterns) return n.name;
  return "";
}

std::string supported_pre_tokenizers() {
  std::string s;
  for (const auto& n : table()) s += (s.empty() ? "" : ", ") + std::string(n.name);
  return s;
}

const std::string& gpt2_pattern() {
  return kGpt2;
}

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(const std::vector<std::string>& patterns) {
  if (patterns.empty()) fail("byte-level BPE: no pre-tokenizer regex");
  for (const std::string& p : patterns) {
    int err = 0;
    PCRE2_SIZE at = 0;
    // UCP: \s, \d, \w and the POSIX classes by Unicode properties, as Hugging Face's Oniguruma.
    // MULTILINE: $ at every line end (Oniguruma's Ruby syntax). MATCH_INVALID_UTF: invalid
    // UTF-8 in the text matches nothing (it becomes its own piece) instead of failing.
    const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_MATCH_INVALID_UTF;
    auto r = std::make_unique<Regex>();
    r->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(), options, &err, &at,
                            nullptr);
    if (!r->code)
      fail("pre-tokenizer regex /", p, "/ does not compile at offset ", at, ": ",
           pcre2_message(err));
    pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);  // optional: interpreted if JIT is missing
    regexes_.push_back(std::move(r));
  }
}

PreTokenizer::~PreTokenizer() = default;

namespace {
// Cuts text[piece] into the regex's matches and the gaps between them.
void split_one(pcre2_code* code, pcre2_match_data* md, std::string_view text,
               PreTokenizer::Piece piece, std::vector<PreTokenizer::Piece>& out) {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + piece.start);
  size_t gap = 0;   // start of the text not matched yet
  size_t from = 0;  // where the next search starts
  while (from < piece.len) {
    const int rc = pcre2_match(code, subject, piece.len, from, 0, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("pre-tokenizer: regex match failed: ", pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t begin = ov[0], end = ov[1];
    if (end <= begin) {  // an empty match cuts nothing: search again a character further
      from = begin + 1;
      while (from < piece.len && (subject[from] & 0xc0) == 0x80) ++from;
      continue;
    }
    if (begin > gap) out.push_back({piece.start + gap, begin - gap});
    out.push_back({piece.start + begin, end - begin});
    gap = from = end;
  }
  if (gap < piece.len) out.push_back({piece.start + gap, piece.len - gap});
}
}  // namespace

std::vector<PreTokenizer::Piece> PreTokenizer::split(std::string_view text) const {
  std::vector<Piece> pieces = {{0, text.size()}};
  if (text.empty()) return {};
  std::vector<Piece> next;
  for (const auto& r : regexes_) {
    std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
        pcre2_match_data_create_from_pattern(r->code, nullptr), &pcre2_match_data_free);
    next.clear();
    for (const Piece& p : pieces) split_one(r->code, md.get(), text, p, next);
    pieces.swap(next);
  }
  return pieces;
}

}  // namespace llmpipe::detail
