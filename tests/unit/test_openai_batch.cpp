// OpenAI batch files: requests become prompts (or a reason naming the field), and the output
// lists every input line in order with a response or an error.
#include <gtest/gtest.h>

#include <sstream>

#include "pipeline/openai_batch.h"
#include "pipeline/run_io.h"

namespace llmpipe {
namespace {

using nlohmann::json;

json request(const std::string& url, json body) {
  return {{"custom_id", "r"}, {"method", "POST"}, {"url", url}, {"body", std::move(body)}};
}

std::string reason(const json& line) {
  PromptRequest p;
  return parse_batch_request(line, p);
}

TEST(OpenAIBatch, RequestsMapToPrompts) {
  PromptRequest p;
  ASSERT_EQ(parse_batch_request(request("/v1/chat/completions",
                                        {{"model", "m"},
                                         {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                         {"max_completion_tokens", 7},
                                         {"temperature", 0.5},
                                         {"stop", "x"},
                                         {"n", 1},
                                         {"seed", nullptr}}),
                                p),
            "");
  EXPECT_EQ(p.id, "r");
  EXPECT_EQ(p.batch_model, "m");
  EXPECT_EQ(p.max_new_tokens, 7);
  EXPECT_EQ(p.temperature, 0.5f);
  EXPECT_EQ(p.stop, std::vector<std::string>{"x"});
  ASSERT_TRUE(p.messages);
  EXPECT_EQ((*p.messages)[0]["content"], "Hi");
  PromptRequest q;
  ASSERT_EQ(parse_batch_request(request("/v1/completions", {{"prompt", {"Once"}}, {"max_tokens", 3}}), q), "");
  EXPECT_EQ(q.prompt, "Once");
  // Through a file: the messages keep the order their keys were written in.
  std::istringstream in(R"({"custom_id": "o", "method": "POST", "url": "/v1/chat/completions", )"
                        R"("body": {"messages": [{"role": "user", "content": "Hi", "name": "x"}]}})");
  const PromptFile f = parse_prompts(in);
  ASSERT_EQ(f.prompts.size(), 1u);
  EXPECT_EQ((*f.prompts[0].messages)[0].dump(), R"({"role":"user","content":"Hi","name":"x"})");
  EXPECT_EQ(q.max_new_tokens, 3);
  EXPECT_FALSE(q.messages);
}

TEST(OpenAIBatch, UnusableRequestsNameTheField) {
  const json chat = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}};
  EXPECT_EQ(reason(request("/v1/embeddings", chat)).rfind("field \"url\" must be", 0), 0u);
  json get = request("/v1/completions", {{"prompt", "x"}});
  get["method"] = "GET";
  EXPECT_EQ(reason(get), "field \"method\" must be \"POST\"");
  EXPECT_NE(reason(request("/v1/chat/completions", {{"messages", chat["messages"]}, {"n", 2}}))
                .find("body.n = 2 is not supported"),
            std::string::npos);
  EXPECT_NE(reason(request("/v1/chat/completions", {{"messages", chat["messages"]}, {"seed", 1}}))
                .find("--seed"),
            std::string::npos);
  EXPECT_EQ(reason(request("/v1/completions", chat)),
            "body.messages belongs to /v1/chat/completions, not to /v1/completions");
  EXPECT_EQ(reason(request("/v1/completions", {{"max_tokens", 3}})),
            "a /v1/completions body needs \"prompt\"");
  EXPECT_NE(reason(request("/v1/completions", {{"prompt", {1, 2}}})).find("token ids are not supported"),
            std::string::npos);
  EXPECT_EQ(reason(request("/v1/completions", {{"prompt", "x"}, {"max_tokens", 0}})),
            "body.max_tokens must be an integer >= 1");
  EXPECT_EQ(reason(request("/v1/completions", {{"prompt", "x"}, {"top_p", 2}})),
            "body.top_p must be in (0, 1]");
  EXPECT_NE(reason(request("/v1/chat/completions", {{"messages", {{{"content", "x"}}}}}))
                .find("needs a string \"role\""),
            std::string::npos);
  json extra = request("/v1/completions", {{"prompt", "x"}});
  extra["priority"] = 1;
  EXPECT_NE(reason(extra).find("unknown field \"priority\""), std::string::npos);
  json no_id = request("/v1/completions", {{"prompt", "x"}});
  no_id["custom_id"] = 5;
  EXPECT_EQ(reason(no_id), "field \"custom_id\" must be a non-empty string");
}

TEST(OpenAIBatch, OutputListsEveryLineInOrder) {
  std::istringstream in(
      R"({"custom_id": "a", "method": "POST", "url": "/v1/completions", "body": {"prompt": "x"}})" "\n"
      R"({"custom_id": "b", "method": "POST", "url": "/v1/completions", "body": {"prompt": "x", "n": 3}})" "\n"
      "\n"
      R"({"id": "c", "prompt": "x"})" "\n"
      R"({"custom_id": "d", "method": "POST", "url": "/v1/chat/completions", "body": {"messages": [{"role": "user", "content": "x"}]}})" "\n"
      R"({"custom_id": "e", "method": "POST", "url": "/v1/completions", "body": {"prompt": "y"}})" "\n");
  const PromptFile f = parse_prompts(in);
  ASSERT_TRUE(f.openai_batch);
  ASSERT_EQ(f.prompts.size(), 3u);
  ASSERT_EQ(f.errors.size(), 2u);
  const std::vector<json> done = {{{"id", "d"}, {"completion", "hi"}, {"prompt_tokens", 4},
                                   {"completion_tokens", 2}, {"finish_reason", "context"}},
                                  {{"id", "a"}, {"completion", "yo"}, {"prompt_tokens", 1},
                                   {"completion_tokens", 1}, {"finish_reason", "stop"}}};
  const std::vector<json> errors = {{{"line", 6}, {"id", "e"}, {"error", "stopped"}, {"unfinished", true}}};
  const auto out = batch_output_lines(f, done, errors, "fallback");
  ASSERT_EQ(out.size(), 5u);
  std::vector<json> ids;
  for (const auto& l : out) ids.push_back(l["custom_id"]);
  EXPECT_EQ(ids, (std::vector<json>{"a", "b", nullptr, "d", "e"}));
  EXPECT_EQ(out[0]["response"]["body"]["choices"][0]["text"], "yo");
  EXPECT_EQ(out[0]["response"]["body"]["object"], "text_completion");
  EXPECT_EQ(out[0]["response"]["body"]["model"], "fallback");
  EXPECT_EQ(out[1]["response"]["status_code"], 400);
  EXPECT_NE(out[2]["response"]["body"]["error"]["message"].get<std::string>().find("no \"custom_id\""),
            std::string::npos);
  EXPECT_EQ(out[3]["response"]["body"]["choices"][0]["message"]["content"], "hi");
  EXPECT_EQ(out[3]["response"]["body"]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(out[3]["response"]["body"]["usage"]["total_tokens"], 6);
  EXPECT_EQ(out[4]["response"], nullptr);
  EXPECT_EQ(out[4]["error"]["code"], "request_not_finished");
}

}  // namespace
}  // namespace llmpipe
