// Finds special tokens (control and user-defined) written literally in a text.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/vocab.h"

namespace llmpipe::detail {

class SpecialTokenMatcher {
 public:
  // The texts of `vocab`'s control, unknown and user-defined tokens; the vocabulary outlives
  // the matcher (its token strings are referenced, not copied).
  explicit SpecialTokenMatcher(const Vocab& vocab);

  struct Match {
    size_t len;
    int32_t id;
  };
  // The longest token starting at text[pos]: user-defined tokens always, control and unknown
  // ones only with parse_special.
  std::optional<Match> match_at(std::string_view text, size_t pos, bool parse_special) const;

 private:
  struct Entry {
    int32_t id;
    bool control;  // matched only with parse_special
  };
  std::unordered_map<std::string_view, Entry> by_text_;
  // Per first byte, the distinct lengths of the tokens starting with it, longest first.
  std::array<std::vector<size_t>, 256> lengths_;
};

}  // namespace llmpipe::detail
