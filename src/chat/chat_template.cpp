#include "chat/chat_template.h"

#include <cstdlib>
#include <cstring>

#include "chat/builtins.h"
#include "chat/evaluator.h"
#include "chat/parser.h"

namespace llmpipe::chat {

struct ChatTemplate::Parsed {
  Body body;
};

ChatTemplate::ChatTemplate(std::string_view source)
    : parsed_(std::make_unique<Parsed>(Parsed{parse_template(source)})) {}
ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const nlohmann::ordered_json& context, const std::tm& now) const {
  if (!context.is_object()) fail("chat template context must be a JSON object");
  Dict globals;
  add_globals(globals, now);
  for (auto it = context.begin(); it != context.end(); ++it)
    globals.set(it.key(), Value::from_json(it.value()));
  return Evaluator(std::move(globals)).render(parsed_->body);
}

nlohmann::ordered_json chat_context(const nlohmann::ordered_json& messages,
                                    const ChatOptions& opt) {
  nlohmann::ordered_json c;
  c["messages"] = messages;
  c["tools"] = nullptr;
  c["documents"] = nullptr;
  c["add_generation_prompt"] = opt.add_generation_prompt;
  if (opt.bos_token) c["bos_token"] = *opt.bos_token;
  if (opt.eos_token) c["eos_token"] = *opt.eos_token;
  return c;
}

std::tm chat_time() {
  std::tm tm{};
  if (const char* d = std::getenv("LLMPIPE_CHAT_DATE"); d && *d) {
    int y = 0, m = 0, day = 0;
    char extra = 0;
    if (std::sscanf(d, "%4d-%2d-%2d%c", &y, &m, &day, &extra) != 3 || m < 1 || m > 12 || day < 1 ||
        day > 31)
      fail("LLMPIPE_CHAT_DATE must be a date YYYY-MM-DD, got '", d, "'");
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = day;
    tm.tm_isdst = -1;
    std::mktime(&tm);  // fills in the weekday and day of the year for %a, %j...
    return tm;
  }
  const std::time_t t = std::time(nullptr);
  localtime_r(&t, &tm);
  return tm;
}

}  // namespace llmpipe::chat
