#include "chat/chat_prompt.h"

namespace llmpipe::chat {

ChatFormatter::ChatFormatter(const Tokenizer& tokenizer) : tok_(tokenizer) {
  const std::string& source = tokenizer.chat_template();
  if (source.empty()) return;
  try {
    tmpl_.emplace(source);
  } catch (const Error& e) {
    parse_error_ = e.what();
  }
}

ChatPrompt ChatFormatter::render(const nlohmann::ordered_json& messages) const {
  if (!parse_error_.empty()) fail("the model's chat template cannot be used: ", parse_error_);
  if (!tmpl_)
    fail(
        "the model has no chat template (tokenizer.chat_template in a GGUF, chat_template in "
        "tokenizer_config.json), so it cannot render a conversation: give the prompt as plain "
        "text instead");
  ChatOptions opt;
  opt.add_generation_prompt = true;
  if (tok_.bos_id() >= 0) opt.bos_token = tok_.token_text(tok_.bos_id());
  if (tok_.eos_id() >= 0) opt.eos_token = tok_.token_text(tok_.eos_id());
  ChatPrompt p;
  p.text = tmpl_->render(chat_context(messages, opt), chat_time());
  // Templates that start with {{ bos_token }} already hold the BOS: do not add a second.
  const bool has_bos =
      opt.bos_token && !opt.bos_token->empty() && p.text.starts_with(*opt.bos_token);
  p.tokens = tok_.encode(p.text, tok_.vocab().add_bos && !has_bos, /*parse_special=*/true);
  return p;
}

}  // namespace llmpipe::chat
