#include "convert/synth_vocab.h"

#include <cctype>
#include <cstdio>
#include <string>
#include <unordered_set>

#include "core/error.h"

namespace llmpipe {

namespace {

constexpr const char* kSpace = "\xe2\x96\x81";  // U+2581

// Frequent English words (and a few word pieces); each also appears with a leading "▁".
constexpr const char* kWords[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "she", "this", "are", "or", "his", "her", "from", "at", "which", "but",
    "have", "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "there",
    "been", "has", "would", "more", "if", "no", "when", "will", "so", "who", "what", "up", "out",
    "about", "into", "them", "some", "time", "could", "than", "other", "then", "its", "only",
    "new", "these", "two", "may", "first", "any", "like", "now", "my", "such", "over", "also",
    "after", "did", "many", "me", "before", "must", "through", "back", "years", "where", "much",
    "your", "way", "well", "down", "should", "because", "each", "just", "those", "people",
    "how", "too", "little", "state", "good", "very", "make", "world", "still", "own", "see",
    "men", "work", "long", "get", "here", "between", "both", "life", "being", "under", "never",
    "day", "same", "another", "know", "while", "last", "might", "us", "great", "old", "year",
    "off", "come", "since", "against", "go", "came", "right", "used", "take", "three", "once",
    "upon", "said", "big", "cat", "dog", "friend", "happy", "play", "saw", "want", "mom",
    "went", "park", "tree", "ball", "sun", "girl", "boy", "named", "Once", "The", "She", "He",
    "They", "It", "One", "ing", "ed", "er", "es", "ly", "tion", "ation", "ment", "ness", "able"};

constexpr const char* kLetters = "etaoinshrdlucmfwypvbgkjqxz";

class Builder {
 public:
  explicit Builder(int32_t n) : n_(n) {
    v_.tokens.reserve(size_t(n));
    v_.scores.reserve(size_t(n));
    v_.types.reserve(size_t(n));
  }
  bool full() const { return v_.size() >= n_; }
  bool has(const std::string& p) const { return seen_.count(p) != 0; }
  void add(const std::string& piece, TokenType type, float score) {
    if (full() || !seen_.insert(piece).second) return;
    v_.tokens.push_back(piece);
    v_.scores.push_back(score);
    v_.types.push_back(type);
  }
  // A normal piece; its score falls with its rank, as in real SentencePiece vocabularies.
  void add_piece(const std::string& piece) { add(piece, TokenType::Normal, -float(n_normal_++)); }
  // `piece` with every prefix of it (at UTF-8 character boundaries) first, so BPE reaches it.
  void add_with_prefixes(const std::string& piece) {
    for (size_t len = 1; len <= piece.size(); ++len) {
      if (len < piece.size() && (static_cast<unsigned char>(piece[len]) & 0xc0) == 0x80) continue;
      add_piece(piece.substr(0, len));
    }
  }
  const Vocab& vocab() const { return v_; }
  Vocab take() { return std::move(v_); }

 private:
  int32_t n_;
  int n_normal_ = 0;
  Vocab v_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

Vocab synthetic_vocab(int32_t n_vocab) {
  if (n_vocab < kMinSyntheticVocab)
    fail("a synthetic vocabulary needs at least ", kMinSyntheticVocab, " tokens, not ", n_vocab);
  Builder b(n_vocab);
  b.add("<unk>", TokenType::Unknown, 0.0f);
  b.add("<s>", TokenType::Control, 0.0f);
  b.add("</s>", TokenType::Control, 0.0f);
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    b.add(name, TokenType::Byte, 0.0f);
  }
  // Single characters: space, printable ASCII.
  b.add_piece(kSpace);
  for (const char* l = kLetters; *l; ++l) b.add_piece(std::string(1, *l));
  for (int c = 33; c < 127; ++c) b.add_piece(std::string(1, char(c)));
  for (const char* w : kWords) b.add_with_prefixes(std::string(kSpace) + w);
  for (const char* w : kWords) b.add_with_prefixes(w);
  // Generated pieces: extend every piece so far by a frequent letter, breadth first (all
  // "▁x" and "xy", then longer ones), until the vocabulary is full.
  for (size_t i = 0; !b.full(); ++i) {
    if (i >= b.vocab().tokens.size()) fail("synthetic vocabulary: ran out of pieces");  // never
    if (b.vocab().types[i] != TokenType::Normal) continue;
    const std::string base = b.vocab().tokens[i];
    if (base.size() == 1 && !std::isalpha(static_cast<unsigned char>(base[0]))) continue;
    for (const char* l = kLetters; *l && !b.full(); ++l) b.add_piece(base + *l);
  }
  Vocab v = b.take();
  v.bos_id = 1;
  v.eos_id = 2;
  v.unk_id = 0;
  v.add_space_prefix = true;
  v.add_bos = true;
  return v;
}

}  // namespace llmpipe
