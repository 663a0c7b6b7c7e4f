// Byte-level BPE (GPT-2, LLaMA 3, Qwen2/3, DeepSeek): the text cut into words by the
// pre-tokenizer's regexes, each word's bytes written as GPT-2's byte characters, then the
// adjacent pair with the best (lowest) merge rank merged first, leftmost on ties, until no pair
// has a rank; as Hugging Face's BPE model and llama.cpp do.
#include <queue>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/encoder.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"

namespace llmpipe::detail {

namespace {

struct Merge {
  uint32_t rank;
  int32_t merged;  // id of the merged token
};

uint64_t pair_key(int32_t left, int32_t right) {
  return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
}

struct Symbol {
  int32_t id;  // -1 once merged into its left neighbour
  int prev, next;
};

struct Candidate {
  uint32_t rank;
  int left;
  int32_t left_id, right_id;  // to detect candidates made stale by an earlier merge
  bool operator<(const Candidate& o) const {
    // std::priority_queue pops the largest: the lowest rank, then the leftmost, is "largest".
    return rank > o.rank || (rank == o.rank && left > o.left);
  }
};

class BpeEncoder final : public Encoder {
 public:
  explicit BpeEncoder(const Vocab& vocab) : v_(vocab), pre_(vocab.pre_patterns) {
    for (int32_t id = 0; id < v_.size(); ++id) ids_.emplace(v_.tokens[size_t(id)], id);
    for (size_t rank = 0; rank < v_.merges.size(); ++rank) add_merge(v_.merges[rank], rank);
  }

  void encode(std::string_view text, bool at_start, std::vector<int32_t>& out) const override;
  std::string piece_text(int32_t id) const override;

 private:
  void add_merge(const std::string& merge, size_t rank);
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  int32_t id_of(std::string_view text) const {
    const auto it = ids_.find(text);
    return it == ids_.end() ? -1 : it->second;
  }

  const Vocab& v_;
  PreTokenizer pre_;
  std::unordered_map<std::string_view, int32_t> ids_;  // views of v_.tokens
  std::unordered_map<uint64_t, Merge> merges_;         // (left id, right id) -> merge
};

void BpeEncoder::add_merge(const std::string& merge, size_t rank) {
  // "left right": the separator is the first space after the first character (tokens hold no
  // literal space, which the byte alphabet writes as "Ġ").
  const size_t sep = merge.find(' ', 1);
  if (sep == std::string::npos)
    fail("tokenizer: merge ", rank, " '", merge, "' is not two tokens separated by a space");
  const std::string_view m(merge);
  const int32_t left = id_of(m.substr(0, sep)), right = id_of(m.substr(sep + 1));
  std::string joined(m.substr(0, sep));
  joined += m.substr(sep + 1);
  const int32_t merged = id_of(joined);
  // A merge of tokens the vocabulary lacks can never apply; the first rank of a pair wins.
  if (left < 0 || right < 0 || merged < 0) return;
  merges_.emplace(pair_key(left, right), Merge{uint32_t(rank), merged});
}

void BpeEncoder::encode(std::string_view text, bool at_start, std::vector<int32_t>& out) const {
  std::string prefixed;
  if (v_.add_space_prefix && at_start && !text.empty() && text[0] != ' ') {
    // Hugging Face's ByteLevel add_prefix_space: a space before a text not starting with one.
    prefixed = " ";
    prefixed += text;
    text = prefixed;
  }
  for (const PreTokenizer::Piece& p : pre_.split(text))
    encode_word(text.substr(p.start, p.len), out);
}

void BpeEncoder::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  std::string w;
  byte_level_encode(word, w);
  if (v_.ignore_merges) {
    if (const int32_t id = id_of(w); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  std::vector<Symbol> sym;
  for (size_t i = 0; i < w.size();) {
    const size_t len = std::min(utf8_len(static_cast<unsigned char>(w[i])), w.size() - i);
    // Every byte character is a token in a byte-level vocabulary; one that is not is dropped,
    // as Hugging Face does without an unknown token.
    if (const int32_t id = id_of(std::string_view(w).substr(i, len)); id >= 0)
      sym.push_back({id, int(sym.size()) - 1, int(sym.size()) + 1});
    i += len;
  }
  if (sym.empty()) return;
  sym.back().next = -1;

  std::priority_queue<Candidate> queue;
  auto try_pair = [&](int left) {
    if (left < 0 || sym[size_t(left)].next < 0) return;
    const int32_t a = sym[size_t(left)].id, b = sym[size_t(sym[size_t(left)].next)].id;
    const auto it = merges_.find(pair_key(a, b));
    if (it != merges_.end()) queue.push({it->second.rank, left, a, b});
  };
  for (int i = 0; i + 1 < int(sym.size()); ++i) try_pair(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& a = sym[size_t(c.left)];
    if (a.id != c.left_id || a.next < 0 || sym[size_t(a.next)].id != c.right_id) continue;
    Symbol& b = sym[size_t(a.next)];
    a.id = merges_.at(pair_key(c.left_id, c.right_id)).merged;
    b.id = -1;
    a.next = b.next;
    if (a.next >= 0) sym[size_t(a.next)].prev = c.left;
    try_pair(a.prev);
    try_pair(c.left);
  }
  for (int i = 0; i >= 0; i = sym[size_t(i)].next) out.push_back(sym[size_t(i)].id);
}

std::string BpeEncoder::piece_text(int32_t id) const {
  const std::string& text = v_.tokens[size_t(id)];
  switch (v_.types[size_t(id)]) {
    case TokenType::Normal:
    case TokenType::Undefined:
      return byte_level_decode(text);
    case TokenType::UserDefined:
      return text;  // added tokens are stored as written, not in the byte alphabet
    default:
      return "";  // unknown, unused, byte: no text in a byte-level vocabulary
  }
}

}  // namespace

std::unique_ptr<Encoder> make_bpe_encoder(const Vocab& vocab) {
  return std::make_unique<BpeEncoder>(vocab);
}

}  // namespace llmpipe::detail
