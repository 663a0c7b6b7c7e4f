// A conversation as prompt tokens for a model: rendered with the model's own chat template
// (add_generation_prompt, the model's bos/eos texts), then encoded with special tokens parsed,
// so the template's <|start_header_id|> or <|im_start|> become their control tokens; BOS is
// added only when the model adds one and the template did not already write it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe::chat {

struct ChatPrompt {
  std::string text;  // the rendered template
  std::vector<int32_t> tokens;
};

class ChatFormatter {
 public:
  // Parses the tokenizer's chat template once; a template that does not parse is reported
  // by render(), so a run without `messages` is not stopped by it.
  explicit ChatFormatter(const Tokenizer& tokenizer);
  bool has_template() const { return tmpl_.has_value(); }

  // messages: [{"role", "content"}, ...]. Errors (no template, the template refuses the
  // conversation) are Errors saying so.
  ChatPrompt render(const nlohmann::ordered_json& messages) const;

 private:
  const Tokenizer& tok_;
  std::optional<ChatTemplate> tmpl_;
  std::string parse_error_;
};

}  // namespace llmpipe::chat
