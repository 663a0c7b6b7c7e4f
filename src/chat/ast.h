// The parsed template: expressions and statements, each with the source position it came from
// so that evaluation errors can point at the template.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/value.h"

namespace llmpipe::chat {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Literal,  // value
    Name,     // name
    List,     // args: items
    Dict,     // args: key, value, key, value, ...
    Attr,     // args[0].name
    Item,     // args[0][args[1]]
    Slice,    // args[0][args[1]:args[2]:args[3]] (any of 1..3 may be null)
    Call,     // args[0](args[1..], kwargs)
    Filter,   // args[0] | name(args[1..], kwargs)
    Test,     // args[0] is [not] name(args[1..])
    Unary,    // name ("-", "+", "not") args[0]
    Binary,   // args[0] name args[1]: + - * / // % ** ~ and or
    Compare,  // args[0] ops[0] args[1] ops[1] args[2] ... (Python chaining)
    Cond,     // args[0] if args[1] else args[2] (args[2] may be null: undefined)
  };
  Kind kind;
  int line = 0, column = 0;
  Value value;
  std::string name;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negated = false;  // `is not`
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind { Text, Output, If, For, Set, SetBlock, Break, Continue };
  Kind kind;
  int line = 0, column = 0;
  std::string text;                  // Text
  ExprPtr expr;                      // Output, Set: the value; For: the iterable
  std::vector<ExprPtr> conditions;   // If: one per branch (if, elif...)
  std::vector<Body> bodies;          // If: one per condition, then else; For: body, else
  std::vector<std::string> targets;  // For: loop variables; Set, SetBlock: the name
  std::string attribute;             // Set: `ns.attribute = ...`
  ExprPtr filter;                    // For: `for x in y if filter`
};

}  // namespace llmpipe::chat
