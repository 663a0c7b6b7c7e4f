// Runs a parsed template over a context, with Jinja2's scoping: `set` in a for loop's body is
// local to that iteration, `set` in an if is not, namespace() objects carry state out of loops.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "chat/ast.h"

namespace llmpipe::chat {

class Evaluator {
 public:
  explicit Evaluator(Dict globals);
  std::string render(const Body& body);

 private:
  enum class Flow { Normal, Break, Continue };

  Flow run(const Body& body, std::string& out);
  Flow run_stmt(const Stmt& s, std::string& out);
  Flow run_for(const Stmt& s, std::string& out);
  void run_set(const Stmt& s, std::string& out);
  void bind_targets(const Stmt& s, const Value& item);

  Value eval(const Expr& e);
  Value eval_node(const Expr& e);
  Value eval_binary(const Expr& e);
  Value eval_compare(const Expr& e);
  Value eval_call(const Expr& e);
  Value eval_slice(const Expr& e);
  Args eval_args(const Expr& e);

  Value lookup(const std::string& name) const;
  void assign(const std::string& name, Value v);

  // Every statement and loop iteration is a step; a template (a downloaded file's) that takes
  // more, or writes more, is an error rather than a hung or exhausted job. Real templates take a
  // few thousand steps for long conversations.
  static constexpr int64_t kMaxSteps = 1'000'000;
  static constexpr size_t kMaxOutput = 64u << 20;
  void step(const Stmt& s, const std::string& out);

  std::vector<std::unordered_map<std::string, Value>> scopes_;
  Dict globals_;
  int64_t steps_ = 0;
};

}  // namespace llmpipe::chat
