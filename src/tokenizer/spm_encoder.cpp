// SentencePiece BPE: merges the highest-scoring adjacent pair first, byte fallback for pieces
// outside the vocabulary (LLaMA 1/2, Mistral, Phi-3).
#include <algorithm>
#include <cstdio>
#include <queue>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/encoder.h"
#include "tokenizer/utf8.h"

namespace llmpipe::detail {

namespace {

constexpr std::string_view kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space

bool matchable(TokenType t) {
  return t == TokenType::Normal || t == TokenType::UserDefined;
}

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

class SpmEncoder final : public Encoder {
 public:
  explicit SpmEncoder(const Vocab& vocab) : v_(vocab) {
    std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
    for (int32_t id = 0; id < v_.size(); ++id) {
      const std::string& piece = v_.tokens[size_t(id)];
      if (v_.types[size_t(id)] == TokenType::Byte) {
        unsigned value = 0;
        if (piece.size() == 6 && std::sscanf(piece.c_str(), "<0x%02X>", &value) == 1 && value < 256)
          byte_ids_[value] = id;
        continue;
      }
      if (matchable(v_.types[size_t(id)])) piece_to_id_.emplace(piece, id);
    }
  }

  void encode(std::string_view text, bool at_start, std::vector<int32_t>& out) const override;
  std::string piece_text(int32_t id) const override;

 private:
  const Vocab& v_;
  std::unordered_map<std::string, int32_t> piece_to_id_;
  int32_t byte_ids_[256];  // id of <0xNN>, or -1 if the vocabulary lacks it
};

void SpmEncoder::encode(std::string_view text, bool at_start, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::string s;
  if (v_.add_space_prefix && at_start) s += kSpace;
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
    queue.push({v_.scores[size_t(it->second)], left, a.len + b.len});
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
        out.push_back(v_.unk_id);
        break;
      }
      out.push_back(b);
    }
  }
}

std::string SpmEncoder::piece_text(int32_t id) const {
  const TokenType type = v_.types[size_t(id)];
  const std::string& piece = v_.tokens[size_t(id)];
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

}  // namespace

std::unique_ptr<Encoder> make_spm_encoder(const Vocab& vocab) {
  return std::make_unique<SpmEncoder>(vocab);
}

}  // namespace llmpipe::detail
