// Renders the jobs written by tests/tools/jinja_chat_render.py with llmpipe's chat template
// renderer, in the same output form, for test_chat_templates.sh to compare:
//   chat_render TEMPLATE_DIR JOBS_JSON OUT_DIR
// OUT_DIR/<label>.txt: the rendered text, "<<raise_exception>> message", or "<<error>>" (the
// error itself goes to stderr).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"

using llmpipe::chat::ChatTemplate;
using llmpipe::chat::TemplateError;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) llmpipe::fail("cannot open ", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 4) {
    std::cerr << "usage: chat_render TEMPLATE_DIR JOBS_JSON OUT_DIR\n";
    return 2;
  }
  const std::string dir = argv[1], out_dir = argv[3];
  const auto jobs = nlohmann::ordered_json::parse(read_file(argv[2]));
  const std::tm now = llmpipe::chat::chat_time();
  std::map<std::string, ChatTemplate> templates;
  int errors = 0;
  for (const auto& job : jobs) {
    const std::string name = job["template"].get<std::string>();
    auto it = templates.find(name);
    if (it == templates.end())
      it = templates.emplace(name, ChatTemplate(read_file(dir + "/" + name))).first;
    std::string text;
    try {
      text = it->second.render(job["context"], now);
    } catch (const TemplateError& e) {
      text = e.raised() ? "<<raise_exception>> " + e.message() : "<<error>>";
      if (!e.raised()) {
        std::cerr << job["label"].get<std::string>() << ": " << e.what() << "\n";
        ++errors;
      }
    }
    std::ofstream(out_dir + "/" + job["label"].get<std::string>() + ".txt", std::ios::binary)
        << text;
  }
  std::cout << jobs.size() << " renders, " << errors << " errors\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "chat_render: " << e.what() << "\n";
  return 1;
}
