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

  std::vector<std::unordered_map<std::string, Value>> scopes_;
  Dict globals_;
};

}  // namespace llmpipe::chat
