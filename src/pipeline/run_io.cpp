#include "pipeline/run_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>

#include "core/error.h"
#include "pipeline/openai_batch.h"

namespace llmpipe {

using nlohmann::json;

namespace {

// "messages": [{"role": "user", "content": "..."}, ...], as OpenAI's chat API takes them.
std::string check_messages(const json& m) {
  if (!m.is_array() || m.empty())
    return "field \"messages\" must be a non-empty list of {\"role\", \"content\"} objects";
  for (size_t i = 0; i < m.size(); ++i) {
    const json& e = m[i];
    const std::string at = cat("messages[", i, "]");
    if (!e.is_object()) return at + " must be an object with \"role\" and \"content\"";
    if (!e.contains("role") || !e["role"].is_string()) return at + " needs a string \"role\"";
    if (!e.contains("content") || !(e["content"].is_string() || e["content"].is_null()))
      return at + " needs a \"content\" string";
  }
  return "";
}

// Validates one parsed line; returns the reason it is unusable, or "" if fine.
std::string check_prompt_line(const json& j) {
  if (!j.is_object()) return "line is not a JSON object";
  if (j.contains("prompt") == j.contains("messages"))
    return j.contains("prompt") ? "give either \"prompt\" or \"messages\", not both"
                                : "missing required field \"prompt\" (or \"messages\")";
  if (j.contains("prompt") && !j["prompt"].is_string()) return "field \"prompt\" must be a string";
  if (j.contains("messages")) {
    const std::string why = check_messages(j["messages"]);
    if (!why.empty()) return why;
  }
  if (j.contains("stop")) {
    const json& st = j["stop"];
    bool ok = st.is_string() ? !st.get<std::string>().empty() : st.is_array();
    if (st.is_array())
      for (const json& e : st) ok = ok && e.is_string() && !e.get<std::string>().empty();
    if (!ok) return "field \"stop\" must be a non-empty string or a list of non-empty strings";
  }
  if (j.contains("max_new_tokens") &&
      !(j["max_new_tokens"].is_number_integer() && j["max_new_tokens"].get<int64_t>() >= 1))
    return "field \"max_new_tokens\" must be an integer >= 1";
  for (const char* k : {"temperature", "top_p"})
    if (j.contains(k) && !j[k].is_number()) return std::string("field \"") + k + "\" must be a number";
  if (j.contains("temperature") && j["temperature"].get<double>() < 0)
    return "field \"temperature\" must be >= 0";
  if (j.contains("top_p") && !(j["top_p"].get<double>() > 0 && j["top_p"].get<double>() <= 1))
    return "field \"top_p\" must be in (0, 1]";
  return "";
}

}  // namespace

std::string prompt_from_json(const json& j, const nlohmann::ordered_json* messages,
                             PromptRequest& p) {
  const std::string why = check_prompt_line(j);
  if (!why.empty()) return why;
  if (j.contains("id")) p.id = j["id"];
  if (j.contains("prompt")) p.prompt = j["prompt"].get<std::string>();
  if (j.contains("messages")) p.messages = messages ? *messages : nlohmann::ordered_json(j["messages"]);
  if (j.contains("stop")) {
    if (j["stop"].is_string())
      p.stop.push_back(j["stop"].get<std::string>());
    else
      for (const json& e : j["stop"]) p.stop.push_back(e.get<std::string>());
  }
  if (j.contains("max_new_tokens")) p.max_new_tokens = j["max_new_tokens"].get<int64_t>();
  if (j.contains("temperature")) p.temperature = j["temperature"].get<float>();
  if (j.contains("top_p")) p.top_p = j["top_p"].get<float>();
  return "";
}

PromptFile read_prompts(const std::string& path) {
  std::ifstream f(path);
  if (!f) fail("cannot open prompts file ", path);
  return parse_prompts(f);
}

PromptFile parse_prompts(std::istream& f) {
  PromptFile out;
  int64_t line_no = 0, first_line = 0;  // first_line: the line that decided the file's format
  for (std::string line; std::getline(f, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    PromptRequest p;
    p.line = line_no;
    p.id = json(line_no);
    json j;
    std::string reason;
    try {
      j = json::parse(line);
      if (first_line == 0 && j.is_object()) {
        first_line = line_no;
        out.openai_batch = is_batch_request(j);
      }
      if (first_line != 0 && is_batch_request(j) != out.openai_batch)
        reason = out.openai_batch
                     ? cat("line ", first_line, " made this an OpenAI batch file, but this line "
                           "has no \"custom_id\": every line must be a batch request")
                     : cat("this line is an OpenAI batch request (\"custom_id\"), but line ",
                           first_line, " is in llmpipe's prompts form: use one form per file");
      else {
        // Parsed again in order: a template's tojson writes the keys as they were given.
        const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(line);
        if (out.openai_batch) {
          reason = parse_batch_request(j, p, &ordered);
        } else {
          const auto* messages = ordered.is_object() && ordered.contains("messages")
                                     ? &ordered["messages"] : nullptr;
          reason = prompt_from_json(j, messages, p);
        }
      }
    } catch (const json::exception& e) {
      reason = std::string("not valid JSON: ") + e.what();
    }
    if (!reason.empty()) {
      json e = {{"line", line_no}, {"error", reason}};
      if (j.is_object() && j.contains("custom_id")) e["id"] = j["custom_id"];
      out.errors.push_back(std::move(e));
      continue;
    }
    p.index = int64_t(out.prompts.size());
    out.prompts.push_back(std::move(p));
  }
  return out;
}

JsonlWriter::JsonlWriter(const std::string& path, Mode mode) : path_(path) {
  const int trunc = mode == Mode::Truncate ? O_TRUNC : 0;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | trunc | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot create ", path, ": ", std::strerror(errno));
}

JsonlWriter::~JsonlWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void JsonlWriter::write(const json& record) {
  // One write() per line: a crash can lose a line, never leave half of one.
  const std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  const ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != ssize_t(line.size())) fail("cannot write ", path_, ": ", std::strerror(errno));
  ++lines_;
}

namespace {
// Writes what `write` puts into a stream to `path` through a temporary file and a rename, so
// readers see the old file or the whole new one.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    if (!f) fail("cannot create ", tmp);
    write(f);
    if (!f) fail("cannot write ", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    fail("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno));
}
}  // namespace

void write_json_file(const std::string& path, const json& value) {
  write_file_atomically(path, [&](std::ostream& f) {
    f << value.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  });
}

void write_jsonl_file(const std::string& path, const std::vector<json>& records) {
  write_file_atomically(path, [&](std::ostream& f) {
    for (const json& r : records) f << r.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  });
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace llmpipe
