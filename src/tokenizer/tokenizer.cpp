#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "core/error.h"

namespace llmpipe {

namespace {

constexpr std::string_view kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space

// Length of the UTF-8 sequence starting with byte c (1 for invalid lead bytes).
size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xe) return 3;
  if ((c >> 3) == 0x1e) return 4;
  return 1;
}

bool matchable(TokenType t) { return t == TokenType::Normal || t == TokenType::UserDefined; }

// One symbol of the text being merged: a byte range, linked to its neighbours.
struct Symbol {
  size_t start, len;
  int prev, next;
};

struct Candidate {
  float score;
  int left;          // index of the left symbol
  size_t total_len;  // length of the merged piece, to detect stale candidates
  bool operator<(const Candidate& o) const {
    // Higher score first; on ties the leftmost pair (SentencePiece's order).
    return score < o.score || (score == o.score && left > o.left);
  }
};

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  const int32_t n = vocab_.size();
  if (n == 0) fail("tokenizer: empty vocabulary");
  if (vocab_.scores.size() != size_t(n) || vocab_.types.size() != size_t(n))
    fail("tokenizer: ", n, " tokens but ", vocab_.scores.size(), " scores and ",
         vocab_.types.size(), " types");
  std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
  for (int32_t id = 0; id < n; ++id) {
    const std::string& piece = vocab_.tokens[size_t(id)];
    if (vocab_.types[size_t(id)] == TokenType::Byte) {
      unsigned value = 0;
      if (piece.size() == 6 && std::sscanf(piece.c_str(), "<0x%02X>", &value) == 1 && value < 256)
        byte_ids_[value] = id;
      continue;
    }
    if (matchable(vocab_.types[size_t(id)])) piece_to_id_.emplace(piece, id);
  }
}

bool Tokenizer::is_control(int32_t id) const {
  return id >= 0 && id < n_vocab() && vocab_.types[size_t(id)] == TokenType::Control;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> out;
  if (add_bos) out.push_back(vocab_.bos_id);
  if (text.empty()) return out;

  std::string s;
  if (vocab_.add_space_prefix) s += kSpace;
  for (char c : text) {
    if (c == ' ')
      s += kSpace;
    else
      s += c;
  }

  std::vector<Symbol> sym;
  for (size_t i = 0; i < s.size();) {
    const size_t len = std::min(utf8_len(static_cast<unsigned char>(s[i])), s.size() - i);
    sym.push_back({i, len, int(sym.size()) - 1, int(sym.size()) + 1});
    i += len;
  }
  sym.back().next = -1;

  std::priority_queue<Candidate> queue;
  auto try_pair = [&](int left) {
    if (left < 0 || sym[size_t(left)].next < 0) return;
    const Symbol& a = sym[size_t(left)];
    const Symbol& b = sym[size_t(a.next)];
    const auto it = piece_to_id_.find(std::string(s.substr(a.start, a.len + b.len)));
    if (it == piece_to_id_.end()) return;
    queue.push({vocab_.scores[size_t(it->second)], left, a.len + b.len});
  };
  for (int i = 0; i + 1 < int(sym.size()); ++i) try_pair(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& a = sym[size_t(c.left)];
    // Stale: one side was merged away since this pair was queued.
    if (a.len == 0 || a.next < 0 || a.len + sym[size_t(a.next)].len != c.total_len) continue;
    Symbol& b = sym[size_t(a.next)];
    a.len += b.len;
    b.len = 0;
    a.next = b.next;
    if (a.next >= 0) sym[size_t(a.next)].prev = c.left;
    try_pair(a.prev);
    try_pair(c.left);
  }

  for (int i = 0; i >= 0; i = sym[size_t(i)].next) {
    const Symbol& x = sym[size_t(i)];
    const auto it = piece_to_id_.find(std::string(s.substr(x.start, x.len)));
    if (it != piece_to_id_.end()) {
      out.push_back(it->second);
      continue;
    }
    // Not in the vocabulary: one byte token per UTF-8 byte, or UNK without byte fallback.
    for (size_t k = 0; k < x.len; ++k) {
      const int32_t b = byte_ids_[static_cast<unsigned char>(s[x.start + k])];
      if (b < 0) {
        out.push_back(vocab_.unk_id);
        break;
      }
      out.push_back(b);
    }
  }
  return out;
}

std::string Tokenizer::piece_text(int32_t id) const {
  if (id < 0 || id >= n_vocab())
    fail("token id ", id, " is outside the vocabulary of ", n_vocab(), " tokens");
  const TokenType type = vocab_.types[size_t(id)];
  const std::string& piece = vocab_.tokens[size_t(id)];
  if (type == TokenType::Control) return "";
  if (type == TokenType::Byte) {
    for (int b = 0; b < 256; ++b)
      if (byte_ids_[b] == id) return std::string(1, char(b));
    return "";
  }
  if (type == TokenType::Unknown) return " \xe2\x81\x87 ";  // " ⁇ ", as SentencePiece decodes UNK
  std::string text;
  for (size_t i = 0; i < piece.size();) {
    if (piece.compare(i, kSpace.size(), kSpace) == 0) {
      text += ' ';
      i += kSpace.size();
    } else {
      text += piece[i++];
    }
  }
  return text;
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
    const size_t len = utf8_len(static_cast<unsigned char>(s[i]));
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
    if (tok_.vocab().add_space_prefix && piece[0] == ' ') piece.erase(0, 1);
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
