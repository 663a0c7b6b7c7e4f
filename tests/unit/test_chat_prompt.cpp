// Conversations to prompt tokens with real vocabularies: the template's control tokens become
// their ids (parse_special), a template that writes the BOS text gets no second BOS, and a
// model without a template says so.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "chat/chat_prompt.h"
#include "formats/gguf_reader.h"
#include "test_helpers.h"

namespace llmpipe::chat {
namespace {

Vocab vocab(const std::string& name) {
  return vocab_from_gguf(gguf::Reader::open(test::data_path("ggml-vocab-" + name + ".gguf")));
}

std::string template_file(const std::string& name) {
  std::ifstream f(test::data_path("chat-templates/" + name + ".jinja"), std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

const nlohmann::ordered_json kUserHi = {{{"role", "user"}, {"content", "Hi"}}};

TEST(ChatPrompt, Llama3TemplateOneBosAndControlTokens) {
  Vocab v = vocab("llama-bpe");
  v.chat_template = template_file("meta-llama-Llama-3.1-8B-Instruct");
  const Tokenizer tok(std::move(v));
  const ChatPrompt p = ChatFormatter(tok).render(kUserHi);
  ASSERT_TRUE(p.text.starts_with("<|begin_of_text|><|start_header_id|>system")) << p.text;
  EXPECT_TRUE(p.text.ends_with("Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
  const int32_t bos = tok.bos_id(), header = tok.token_id("<|start_header_id|>").value();
  EXPECT_EQ(p.tokens.front(), bos);
  EXPECT_EQ(std::count(p.tokens.begin(), p.tokens.end(), bos), 1);  // the template's, only
  EXPECT_EQ(p.tokens[1], header);
  EXPECT_EQ(std::count(p.tokens.begin(), p.tokens.end(), tok.token_id("<|eot_id|>").value()), 2);
  // Nothing else changes: the same text encoded the same way, with the BOS written as text.
  EXPECT_EQ(p.tokens, tok.encode(p.text, false, true));
}

TEST(ChatPrompt, QwenTemplateFromItsGguf) {
  const Tokenizer tok(vocab("qwen2"));
  ASSERT_FALSE(tok.chat_template().empty());
  const ChatPrompt p = ChatFormatter(tok).render(kUserHi);
  EXPECT_TRUE(p.text.starts_with("<|im_start|>system\n")) << p.text;
  EXPECT_TRUE(p.text.ends_with("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"))
      << p.text;
  EXPECT_EQ(p.tokens.front(), tok.token_id("<|im_start|>").value());
  EXPECT_EQ(std::count(p.tokens.begin(), p.tokens.end(), tok.token_id("<|im_start|>").value()), 3);
  EXPECT_TRUE(tok.is_end_of_generation(tok.token_id("<|im_end|>").value()));
}

TEST(ChatPrompt, NoTemplateIsAnError) {
  const Tokenizer tok(vocab("llama-spm"));
  ASSERT_TRUE(tok.chat_template().empty());
  try {
    ChatFormatter(tok).render(kUserHi);
    FAIL() << "rendered without a template";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has no chat template"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace llmpipe::chat
