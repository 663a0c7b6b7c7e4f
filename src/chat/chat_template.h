// Chat templates: the Jinja2 programs models ship (tokenizer.chat_template in GGUF,
// tokenizer_config.json) that turn a conversation into the prompt text. Rendered here as
// transformers' apply_chat_template renders them with Python's jinja2 (trim_blocks,
// lstrip_blocks, its own tojson, raise_exception, strftime_now), for the subset of the language
// real templates use; anything outside it is an error naming the line and column, never
// silently different output.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/value.h"
#include "core/error.h"

namespace llmpipe::chat {

// A template that cannot be parsed or rendered. raised(): the template itself refused the
// input with raise_exception (e.g. "roles must alternate"); message() is then its text.
class TemplateError : public Error {
 public:
  TemplateError(const std::string& what, bool raised, std::string message)
      : Error(what), raised_(raised), message_(std::move(message)) {}
  bool raised() const { return raised_; }
  const std::string& message() const { return message_; }

 private:
  bool raised_;
  std::string message_;
};

class ChatTemplate {
 public:
  explicit ChatTemplate(std::string_view source);  // parses; syntax errors throw Error
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Renders with `context` as the template's variables (a JSON object; key order is kept for
  // tojson). strftime_now formats `now`.
  std::string render(const nlohmann::ordered_json& context, const std::tm& now) const;

 private:
  struct Parsed;
  std::unique_ptr<Parsed> parsed_;
};

struct ChatOptions {
  bool add_generation_prompt = true;
  std::optional<std::string> bos_token, eos_token;  // unset: undefined in the template
};

// The context transformers passes: messages, tools=None, documents=None,
// add_generation_prompt, bos_token, eos_token.
nlohmann::ordered_json chat_context(const nlohmann::ordered_json& messages, const ChatOptions& opt);

// The time strftime_now reports: now (local time), or the date in LLMPIPE_CHAT_DATE
// (YYYY-MM-DD, for reproducible prompts and tests).
std::tm chat_time();

}  // namespace llmpipe::chat
