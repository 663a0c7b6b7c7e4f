// A synthetic SentencePiece-style vocabulary (`tokenizer.ggml.model = llama`) of any size: <unk>,
// <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, single characters, common English words with
// "▁" (space) and every prefix of them, then generated letter sequences. Every multi-character
// piece is the merge of two shorter pieces, with higher scores for shorter ones, so BPE can reach
// it; any text encodes through byte fallback. Independent of the seed: models of one size share it.
#pragma once

#include <cstdint>

#include "tokenizer/vocab.h"

namespace llmpipe {

inline constexpr int32_t kMinSyntheticVocab = 512;

Vocab synthetic_vocab(int32_t n_vocab);  // n_vocab >= kMinSyntheticVocab

}  // namespace llmpipe
