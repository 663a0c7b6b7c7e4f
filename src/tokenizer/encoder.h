// The per-algorithm part of the tokenizer (tokenizer.cpp does special tokens, BOS, decoding
// of control tokens and streaming): SentencePiece BPE and byte-level BPE.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace llmpipe::detail {

class Encoder {
 public:
  virtual ~Encoder() = default;
  // Appends the ids of `text`, a piece of the input that holds no special token. at_start: the
  // piece starts the text or follows a special token (where SentencePiece adds its space).
  virtual void encode(std::string_view text, bool at_start, std::vector<int32_t>& out) const = 0;
  // The bytes of a non-control token in the middle of a text.
  virtual std::string piece_text(int32_t id) const = 0;
};

// `vocab` outlives the encoder (both are held by the Tokenizer).
std::unique_ptr<Encoder> make_spm_encoder(const Vocab& vocab);
std::unique_ptr<Encoder> make_bpe_encoder(const Vocab& vocab);

}  // namespace llmpipe::detail
