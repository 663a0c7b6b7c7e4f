#include "pipeline/openai_batch.h"

#include <fstream>
#include <map>

#include "core/error.h"

namespace llmpipe {

using nlohmann::json;

namespace {

constexpr const char* kChat = "/v1/chat/completions";
constexpr const char* kCompletions = "/v1/completions";

// Body fields accepted only at the value that means "nothing special" (what llmpipe does).
bool at_default(const std::string& key, const json& v) {
  if (v.is_null()) return true;
  if (key == "n" || key == "best_of") return v.is_number_integer() && v.get<int64_t>() == 1;
  if (key == "stream" || key == "echo" || key == "logprobs") return v.is_boolean() && !v.get<bool>();
  if (key == "presence_penalty" || key == "frequency_penalty")
    return v.is_number() && v.get<double>() == 0;
  return false;
}

// Fields that change nothing about the completion: recorded by the API, ignored here.
bool informational(const std::string& key) {
  return key == "model" || key == "user" || key == "metadata" || key == "store" ||
         key == "stream_options";
}

std::string openai_finish_reason(const std::string& ours) {
  return ours == "stop" ? "stop" : "length";  // "length" and "context": the budget ran out
}

json response_body(const PromptRequest& p, const json& c, const std::string& model) {
  const bool chat = p.batch_url == kChat;
  const std::string text = c.value("completion", std::string());
  const std::string finish = openai_finish_reason(c.value("finish_reason", std::string("length")));
  json choice = chat ? json{{"index", 0},
                            {"message", {{"role", "assistant"}, {"content", text}}},
                            {"logprobs", nullptr},
                            {"finish_reason", finish}}
                     : json{{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish}};
  const int64_t pt = c.value("prompt_tokens", int64_t(0)), ct = c.value("completion_tokens", int64_t(0));
  return {{"id", cat(chat ? "chatcmpl-" : "cmpl-", "llmpipe-", p.line)},
          {"object", chat ? "chat.completion" : "text_completion"},
          {"created", c.value("created", unix_seconds())},
          {"model", p.batch_model.empty() ? model : p.batch_model},
          {"choices", json::array({choice})},
          {"usage", {{"prompt_tokens", pt}, {"completion_tokens", ct}, {"total_tokens", pt + ct}}}};
}

std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> out;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);) {
    if (line.empty()) continue;
    try {
      out.push_back(json::parse(line));
    } catch (const json::exception&) {
      // A torn last line: resume cuts it; the batch output lists that request as an error.
    }
  }
  return out;
}

}  // namespace

bool is_batch_request(const json& line) { return line.is_object() && line.contains("custom_id"); }

std::string parse_batch_request(const json& j, PromptRequest& p,
                                const nlohmann::ordered_json* ordered) {
  if (!j["custom_id"].is_string() || j["custom_id"].get<std::string>().empty())
    return "field \"custom_id\" must be a non-empty string";
  p.id = j["custom_id"];
  if (j.value("method", std::string()) != "POST") return "field \"method\" must be \"POST\"";
  const json url = j.value("url", json());
  if (!(url == kChat || url == kCompletions))
    return cat("field \"url\" must be \"", kChat, "\" or \"", kCompletions, "\", not ", url.dump());
  p.batch_url = url.get<std::string>();
  if (!j.contains("body") || !j["body"].is_object()) return "field \"body\" must be an object";
  for (const auto& [key, v] : j.items())
    if (key != "custom_id" && key != "method" && key != "url" && key != "body")
      return cat("unknown field \"", key, "\" in a batch request (custom_id, method, url, body)");
  const json& body = j["body"];
  const bool chat = p.batch_url == kChat;
  json ours = json::object();
  for (const auto& [key, v] : body.items()) {
    if (v.is_null() || informational(key)) continue;
    if ((key == "messages" && !chat) || (key == "prompt" && chat))
      return cat("body.", key, " belongs to ", chat ? kCompletions : kChat, ", not to ", p.batch_url);
    if (chat && key == "messages")
      ours["messages"] = v;
    else if (!chat && key == "prompt")
      // The completions API takes a string or a list of them; one request is one prompt here.
      ours["prompt"] = v.is_array() && v.size() == 1 && v[0].is_string() ? v[0] : v;
    else if (key == "max_tokens" || (chat && key == "max_completion_tokens"))
      ours["max_new_tokens"] = v;
    else if (key == "temperature" || key == "top_p" || key == "stop")
      ours[key] = v;
    else if (!at_default(key, v))
      return cat("body.", key, " = ", v.dump(), " is not supported by llmpipe",
                 key == "seed" ? " (give --seed: each prompt gets its own stream)" : "",
                 "; supported: ", chat ? "messages, max_tokens, max_completion_tokens"
                                       : "prompt, max_tokens",
                 ", temperature, top_p, stop (n = 1, no streaming, no logprobs)");
  }
  if (body.contains("model") && !body["model"].is_null()) {
    if (!body["model"].is_string()) return "body.model must be a string";
    p.batch_model = body["model"].get<std::string>();
  }
  if (chat && !ours.contains("messages")) return "a /v1/chat/completions body needs \"messages\"";
  if (!chat && !ours.contains("prompt")) return "a /v1/completions body needs \"prompt\"";
  if (ours.contains("prompt") && !ours["prompt"].is_string())
    return "body.prompt must be a string (or a list of one string; token ids are not supported)";
  if (ours.contains("max_new_tokens") &&
      !(ours["max_new_tokens"].is_number_integer() && ours["max_new_tokens"].get<int64_t>() >= 1))
    return "body.max_tokens must be an integer >= 1";
  // Messages keep their keys' order for templates: the ordered parse of the line, if given.
  const nlohmann::ordered_json* messages = nullptr;
  if (chat && ordered && ordered->is_object() && ordered->contains("body") &&
      (*ordered)["body"].is_object() && (*ordered)["body"].contains("messages"))
    messages = &(*ordered)["body"]["messages"];
  std::string why = prompt_from_json(ours, messages, p);  // `ours` has no "id": p.id stays
  // Name the body's field: `field "top_p" must be ...` -> `body.top_p must be ...`.
  if (const size_t close = why.find('"', 7); why.rfind("field \"", 0) == 0 && close != std::string::npos)
    why = "body." + why.substr(7, close - 7) + why.substr(close + 1);
  return why;
}

std::vector<json> batch_output_lines(const PromptFile& prompts, const std::vector<json>& completions,
                                     const std::vector<json>& errors, const std::string& model) {
  std::map<std::string, const json*> done;  // id (as JSON text) -> completion record
  for (const json& c : completions)
    if (c.contains("id")) done.emplace(c["id"].dump(), &c);
  std::map<int64_t, const json*> failed;  // line -> error record
  for (const json& e : errors)
    if (e.contains("line") && e["line"].is_number_integer()) failed[e["line"].get<int64_t>()] = &e;

  std::map<int64_t, json> lines;  // input line -> output line
  auto error_line = [&](int64_t line, const json& custom_id, const json& e) {
    const std::string message = e.value("error", std::string("request failed"));
    json out = {{"id", cat("batch_req_", line)}, {"custom_id", custom_id}};
    if (e.value("unfinished", false)) {  // the run stopped first: no response at all
      out["response"] = nullptr;
      out["error"] = {{"code", "request_not_finished"}, {"message", message}, {"line", line}};
    } else {
      out["response"] = {{"status_code", 400},
                         {"request_id", cat("req_", line)},
                         {"body", {{"error", {{"message", message},
                                              {"type", "invalid_request_error"},
                                              {"param", nullptr},
                                              {"code", nullptr}}}}}};
      out["error"] = nullptr;
    }
    return out;
  };
  for (const PromptRequest& p : prompts.prompts) {
    if (const auto it = done.find(p.id.dump()); it != done.end())
      lines[p.line] = {{"id", cat("batch_req_", p.line)},
                       {"custom_id", p.id},
                       {"response", {{"status_code", 200},
                                     {"request_id", cat("req_", p.line)},
                                     {"body", response_body(p, *it->second, model)}}},
                       {"error", nullptr}};
    else if (const auto e = failed.find(p.line); e != failed.end())
      lines[p.line] = error_line(p.line, p.id, *e->second);
    else
      lines[p.line] = error_line(p.line, p.id, {{"error", "no completion was written for this "
                                                          "request (the run ended first)"},
                                                {"unfinished", true}});
  }
  for (const json& e : prompts.errors)  // malformed lines
    if (const int64_t line = e["line"].get<int64_t>(); !lines.count(line))
      lines[line] = error_line(line, e.value("id", json()), e);
  std::vector<json> out;
  out.reserve(lines.size());
  for (auto& [line, j] : lines) out.push_back(std::move(j));
  return out;
}

void write_batch_output(const std::string& output_dir, const PromptFile& prompts,
                        const std::string& model) {
  const auto lines = batch_output_lines(prompts, read_jsonl(output_dir + "/completions.jsonl"),
                                        read_jsonl(output_dir + "/errors.jsonl"), model);
  write_jsonl_file(output_dir + "/batch_output.jsonl", lines);
}

}  // namespace llmpipe
