#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/encoder.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/utf8.h"

namespace llmpipe {

namespace {

// Texts of tokens that end a turn in the chat formats we know (llama.cpp's end-of-generation
// list, plus SentencePiece's </s>): generation stops at them even when eos is another token.
constexpr std::string_view kEndMarkers[] = {
    "<|eot_id|>",
    "<|eom_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<|return|>",
    "<|call|>",
    "<EOT>",
    "_<EOT>",
    "</s>",
    "<\xef\xbd\x9c"
    "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",  // DeepSeek
};

void check_id(const Vocab& v, const char* what, int32_t id) {
  if (id < 0 || id >= v.size())
    fail("tokenizer: ", what, " id ", id, " is outside the vocabulary of ", v.size(), " tokens");
}

void check_vocab(const Vocab& v) {
  const int32_t n = v.size();
  if (n == 0) fail("tokenizer: empty vocabulary");
  if (v.types.size() != size_t(n))
    fail("tokenizer: ", n, " tokens but ", v.types.size(), " token types");
  if (v.model == VocabModel::SentencePiece && v.scores.size() != size_t(n))
    fail("tokenizer: ", n, " tokens but ", v.scores.size(), " scores");
  check_id(v, "bos", v.bos_id);
  check_id(v, "eos", v.eos_id);
  if (v.eot_id) check_id(v, "eot", *v.eot_id);
  if (v.eom_id) check_id(v, "eom", *v.eom_id);
}

}  // namespace

struct Tokenizer::Impl {
  Vocab vocab;
  std::unique_ptr<detail::Encoder> encoder;
  std::unique_ptr<detail::SpecialTokenMatcher> specials;
  std::unordered_map<std::string_view, int32_t> text_to_id;  // views of vocab.tokens
  std::vector<int32_t> eog_ids;

  explicit Impl(Vocab v) : vocab(std::move(v)) {
    check_vocab(vocab);
    encoder = vocab.model == VocabModel::SentencePiece ? detail::make_spm_encoder(vocab)
                                                       : detail::make_bpe_encoder(vocab);
    specials = std::make_unique<detail::SpecialTokenMatcher>(vocab);
    for (int32_t id = 0; id < vocab.size(); ++id) text_to_id.emplace(vocab.tokens[size_t(id)], id);
    collect_end_of_generation();
  }

  void collect_end_of_generation() {
    eog_ids.push_back(vocab.eos_id);
    if (vocab.eot_id) eog_ids.push_back(*vocab.eot_id);
    if (vocab.eom_id) eog_ids.push_back(*vocab.eom_id);
    for (std::string_view marker : kEndMarkers) {
      const auto it = text_to_id.find(marker);
      if (it == text_to_id.end()) continue;
      const TokenType t = vocab.types[size_t(it->second)];
      // A normal token spelled like a marker is text, not a turn's end.
      if (t == TokenType::Control || t == TokenType::UserDefined) eog_ids.push_back(it->second);
    }
    std::sort(eog_ids.begin(), eog_ids.end());
    eog_ids.erase(std::unique(eog_ids.begin(), eog_ids.end()), eog_ids.end());
  }
};

Tokenizer::Tokenizer(Vocab vocab) : impl_(std::make_shared<const Impl>(std::move(vocab))) {}

const Vocab& Tokenizer::vocab() const {
  return impl_->vocab;
}

bool Tokenizer::is_control(int32_t id) const {
  return id >= 0 && id < n_vocab() && vocab().types[size_t(id)] == TokenType::Control;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos,
                                       bool parse_special) const {
  std::vector<int32_t> out;
  if (add_bos) out.push_back(vocab().bos_id);
  bool at_start = true;  // the next fragment starts the text or follows a special token
  size_t fragment = 0;
  for (size_t pos = 0; pos < text.size();) {
    const auto m = impl_->specials->match_at(text, pos, parse_special);
    if (!m) {
      ++pos;
      continue;
    }
    if (pos > fragment)
      impl_->encoder->encode(text.substr(fragment, pos - fragment), at_start, out);
    out.push_back(m->id);
    at_start = true;
    pos += m->len;
    fragment = pos;
  }
  if (fragment < text.size()) impl_->encoder->encode(text.substr(fragment), at_start, out);
  return out;
}

std::string Tokenizer::piece_text(int32_t id) const {
  if (id < 0 || id >= n_vocab())
    fail("token id ", id, " is outside the vocabulary of ", n_vocab(), " tokens");
  const TokenType type = vocab().types[size_t(id)];
  if (type == TokenType::Control) return "";
  return impl_->encoder->piece_text(id);
}

std::string Tokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= n_vocab())
    fail("token id ", id, " is outside the vocabulary of ", n_vocab(), " tokens");
  return vocab().tokens[size_t(id)];
}

std::optional<int32_t> Tokenizer::token_id(std::string_view text) const {
  const auto it = impl_->text_to_id.find(text);
  if (it == impl_->text_to_id.end()) return std::nullopt;
  return it->second;
}

bool Tokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(impl_->eog_ids.begin(), impl_->eog_ids.end(), id);
}

std::span<const int32_t> Tokenizer::end_of_generation_ids() const {
  return impl_->eog_ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  StreamDecoder d(*this, /*at_text_start=*/true);
  std::string out;
  for (int32_t id : ids) out += d.push(id);
  return out + d.flush();
}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool at_text_start)
    : tok_(tokenizer), at_start_(at_text_start) {}

namespace {
// Bytes of `s` that form complete UTF-8 characters (an invalid byte counts as complete).
size_t complete_prefix(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t len = detail::utf8_len(static_cast<unsigned char>(s[i]));
    if (i + len > s.size()) {
      // Incomplete only if what is there are valid continuation bytes.
      bool continuing = true;
      for (size_t k = i + 1; k < s.size(); ++k)
        continuing = continuing && (static_cast<unsigned char>(s[k]) & 0xc0) == 0x80;
      if (continuing) break;
      i += 1;
      continue;
    }
    i += len;
  }
  return i;
}
}  // namespace

std::string StreamDecoder::push(int32_t id) {
  std::string piece = tok_.piece_text(id);
  if (at_start_ && !piece.empty()) {
    // SentencePiece drops the space that the space prefix put before the first word.
    if (tok_.vocab().model == VocabModel::SentencePiece && tok_.vocab().add_space_prefix &&
        piece[0] == ' ')
      piece.erase(0, 1);
    at_start_ = false;
  }
  pending_ += piece;
  const size_t n = complete_prefix(pending_);
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  for (size_t i = 0; i < pending_.size(); ++i) out += "\xef\xbf\xbd";  // U+FFFD per stray byte
  pending_.clear();
  return out;
}

}  // namespace llmpipe
