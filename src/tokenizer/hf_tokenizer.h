// Which tokenizer file of a Hugging Face model directory is used, and reading it.
#pragma once

#include <functional>
#include <string>

#include "tokenizer/vocab.h"

namespace llmpipe {

// A reader of the directory's vocabulary, checked now (before any weight is loaded): an
// unsupported tokenizer is an Error here, not when the first stage reads the vocabulary.
//  - tokenizer.json of a byte-level BPE (LLaMA 3, Qwen2/3): what transformers' fast tokenizer
//    runs, read with tokenizer_config.json (bos/eos, add_bos_token, chat_template);
//  - else tokenizer.model (SentencePiece: LLaMA 1/2, Mistral), whose tokenizer.json, when there
//    is one, is the same tokenizer converted by transformers; the chat template still comes
//    from tokenizer_config.json;
//  - else tokenizer.json's own error (WordPiece, Unigram, a SentencePiece-style BPE...).
std::function<Vocab()> hf_vocab_reader(const std::string& dir);

}  // namespace llmpipe
