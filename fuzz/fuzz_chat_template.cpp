// libFuzzer: a chat template (the bytes before the first NUL) rendered for a conversation (a
// JSON list after it, or a fixed one): parse and render must end in a string or an Error, within
// the renderer's step and output budgets, never read out of bounds or recurse without bound.
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

#include "chat/chat_template.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view source = all.substr(0, nul);
  nlohmann::ordered_json messages = nlohmann::ordered_json::array(
      {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}},
       {{"role", "assistant"}, {"content", "Hello."}}, {{"role", "user"}, {"content", "More"}}});
  if (nul != std::string_view::npos) {
    messages = nlohmann::ordered_json::parse(all.substr(nul + 1), nullptr, false);
    if (!messages.is_array()) return 0;  // run checks the conversation's shape before rendering
  }
  try {
    const llmpipe::chat::ChatTemplate t(source);
    llmpipe::chat::ChatOptions opt;
    opt.bos_token = "<s>";
    opt.eos_token = "</s>";
    std::tm day{};
    day.tm_year = 124;
    day.tm_mday = 1;
    (void)t.render(llmpipe::chat::chat_context(messages, opt), day);
  } catch (const llmpipe::Error&) {
  }
  return 0;
}
