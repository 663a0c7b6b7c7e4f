#include "pipeline/run_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace llmpipe {

using nlohmann::json;

namespace {

// Validates one parsed line; returns the reason it is unusable, or "" if fine.
std::string check_prompt_line(const json& j) {
  if (!j.is_object()) return "line is not a JSON object";
  if (!j.contains("prompt")) return "missing required field \"prompt\"";
  if (!j["prompt"].is_string()) return "field \"prompt\" must be a string";
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

PromptFile read_prompts(const std::string& path) {
  std::ifstream f(path);
  if (!f) fail("cannot open prompts file ", path);
  PromptFile out;
  int64_t line_no = 0;
  for (std::string line; std::getline(f, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j;
    std::string reason;
    try {
      j = json::parse(line);
      reason = check_prompt_line(j);
    } catch (const json::exception& e) {
      reason = std::string("not valid JSON: ") + e.what();
    }
    if (!reason.empty()) {
      out.errors.push_back({{"line", line_no}, {"error", reason}});
      continue;
    }
    PromptRequest p;
    p.line = line_no;
    p.index = int64_t(out.prompts.size());
    p.id = j.contains("id") ? j["id"] : json(line_no);
    p.prompt = j["prompt"].get<std::string>();
    if (j.contains("max_new_tokens")) p.max_new_tokens = j["max_new_tokens"].get<int64_t>();
    if (j.contains("temperature")) p.temperature = j["temperature"].get<float>();
    if (j.contains("top_p")) p.top_p = j["top_p"].get<float>();
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

void write_json_file(const std::string& path, const json& value) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    if (!f) fail("cannot create ", tmp);
    f << value.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    if (!f) fail("cannot write ", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    fail("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno));
}

}  // namespace llmpipe
