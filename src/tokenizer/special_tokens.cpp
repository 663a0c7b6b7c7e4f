#include "tokenizer/special_tokens.h"

#include <algorithm>
#include <functional>

namespace llmpipe::detail {

SpecialTokenMatcher::SpecialTokenMatcher(const Vocab& vocab) {
  for (int32_t id = 0; id < vocab.size(); ++id) {
    const TokenType t = vocab.types[size_t(id)];
    const bool control = t == TokenType::Control || t == TokenType::Unknown;
    if (!control && t != TokenType::UserDefined) continue;
    const std::string_view text = vocab.tokens[size_t(id)];
    if (text.empty()) continue;
    // The first id of a duplicated text wins, as in the vocabulary lookup.
    if (!by_text_.emplace(text, Entry{id, control}).second) continue;
    auto& lens = lengths_[static_cast<unsigned char>(text[0])];
    if (std::find(lens.begin(), lens.end(), text.size()) == lens.end()) lens.push_back(text.size());
  }
  for (auto& lens : lengths_) std::sort(lens.begin(), lens.end(), std::greater<>());
}

std::optional<SpecialTokenMatcher::Match> SpecialTokenMatcher::match_at(std::string_view text,
                                                                        size_t pos,
                                                                        bool parse_special) const {
  for (size_t len : lengths_[static_cast<unsigned char>(text[pos])]) {
    if (len > text.size() - pos) continue;
    const auto it = by_text_.find(text.substr(pos, len));
    if (it == by_text_.end() || (it->second.control && !parse_special)) continue;
    return Match{len, it->second.id};
  }
  return std::nullopt;
}

}  // namespace llmpipe::detail
