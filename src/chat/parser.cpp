#include "chat/parser.h"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "chat/lexer.h"
#include "core/error.h"

namespace llmpipe::chat {

namespace {

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::Text:
      return "text";
    case Tok::VarBegin:
      return "'{{'";
    case Tok::VarEnd:
      return "'}}'";
    case Tok::BlockBegin:
      return "'{%'";
    case Tok::BlockEnd:
      return "'%}'";
    case Tok::String:
      return "a string";
    case Tok::End:
      return "the end of the template";
    default:
      return "'" + t.text + "'";
  }
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Body parse_all() {
    std::string end;
    return parse_body({}, end, t_.front());
  }

 private:
  const Token& peek(size_t k = 0) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  const Token& next() {
    const Token& t = peek();
    if (i_ < t_.size() - 1) ++i_;
    return t;
  }
  bool is_op(std::string_view op, size_t k = 0) const {
    return peek(k).kind == Tok::Op && peek(k).text == op;
  }
  bool is_name(std::string_view n, size_t k = 0) const {
    return peek(k).kind == Tok::Name && peek(k).text == n;
  }
  [[noreturn]] void fail_at(const Token& t, const std::string& what) const {
    fail("chat template ", where(t.line, t.column), ": ", what);
  }
  void expect_op(std::string_view op) {
    if (!is_op(op)) fail_at(peek(), cat("expected '", op, "', found ", describe(peek())));
    next();
  }
  std::string expect_name(const char* what) {
    if (peek().kind != Tok::Name)
      fail_at(peek(), cat("expected ", what, ", found ", describe(peek())));
    return next().text;
  }
  void expect_block_end() {
    if (peek().kind != Tok::BlockEnd)
      fail_at(peek(), "expected the end of the tag '%}', found " + describe(peek()));
    next();
  }

  // Parsing and evaluating recurse as deep as the template nests: bounded, so that a hostile
  // template in a model file is an error, not a stack overflow.
  struct Nesting {
    explicit Nesting(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxDepth)
        p_.fail_at(p_.peek(), cat("the template nests deeper than ", kMaxDepth, " levels"));
    }
    ~Nesting() { --p_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    Parser& p_;
  };
  static constexpr int kMaxDepth = 200;

  template <typename Node>
  static std::unique_ptr<Node> node(typename Node::Kind kind, const Token& at) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->line = at.line;
    n->column = at.column;
    return n;
  }

  // Statements until one of `ends` ({% endif %}...); its name is consumed and returned in
  // `found`, the rest of that tag is left to the caller.
  Body parse_body(std::initializer_list<std::string_view> ends, std::string& found,
                  const Token& opener) {
    Body body;
    while (true) {
      const Token& t = peek();
      if (t.kind == Tok::End) {
        if (ends.size() == 0) return body;
        fail_at(t, cat("the block opened at ", where(opener.line, opener.column),
                       " is never closed: expected {% ", *(ends.end() - 1), " %}"));
      }
      if (t.kind == Tok::Text) {
        auto s = node<Stmt>(Stmt::Kind::Text, t);
        s->text = next().text;
        body.push_back(std::move(s));
      } else if (t.kind == Tok::VarBegin) {
        auto s = node<Stmt>(Stmt::Kind::Output, next());
        s->expr = parse_expression();
        if (peek().kind != Tok::VarEnd)
          fail_at(peek(), "expected the end of the expression '}}', found " + describe(peek()));
        next();
        body.push_back(std::move(s));
      } else if (t.kind == Tok::BlockBegin) {
        const Token& name = peek(1);
        if (name.kind == Tok::Name &&
            std::find(ends.begin(), ends.end(), name.text) != ends.end()) {
          next();
          found = next().text;
          return body;
        }
        next();
        body.push_back(parse_statement());
      } else {
        fail_at(t, "unexpected " + describe(t));
      }
    }
  }

  StmtPtr parse_statement() {
    const Nesting guard(*this);
    const Token& t = peek();
    if (t.kind != Tok::Name) fail_at(t, "expected a tag name after '{%', found " + describe(t));
    const std::string name = t.text;
    if (name == "if") return parse_if();
    if (name == "for") return parse_for();
    if (name == "set") return parse_set();
    if (name == "break" || name == "continue") {
      auto s = node<Stmt>(name == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, next());
      expect_block_end();
      return s;
    }
    if (name == "generation") return parse_generation();
    static const char* const known[] = {"macro",  "call", "filter",  "include",
                                        "import", "from", "extends", "block",
                                        "raw",    "with", "do",      "autoescape"};
    if (std::find(std::begin(known), std::end(known), name) != std::end(known))
      fail_at(t, "the tag {% " + name + " %} is not supported by this renderer");
    fail_at(t, "unknown tag {% " + name + " %}");
  }

  StmtPtr parse_if() {
    const Token& opener = peek();
    auto s = node<Stmt>(Stmt::Kind::If, next());
    std::string end;
    do {
      s->conditions.push_back(parse_expression());
      expect_block_end();
      s->bodies.push_back(parse_body({"elif", "else", "endif"}, end, opener));
    } while (end == "elif");
    if (end == "else") {
      expect_block_end();
      s->bodies.push_back(parse_body({"endif"}, end, opener));
    }
    expect_block_end();
    return s;
  }

  StmtPtr parse_for() {
    const Token& opener = peek();
    auto s = node<Stmt>(Stmt::Kind::For, next());
    s->targets.push_back(expect_name("a loop variable"));
    while (is_op(",")) {
      next();
      s->targets.push_back(expect_name("a loop variable"));
    }
    if (!is_name("in")) fail_at(peek(), "expected 'in' in the for tag, found " + describe(peek()));
    next();
    s->expr = parse_or();  // no `x if c else y` here: a trailing `if` filters the loop
    if (is_name("if")) {
      next();
      s->filter = parse_expression();
    }
    if (is_name("recursive")) fail_at(peek(), "recursive for loops are not supported");
    expect_block_end();
    std::string end;
    s->bodies.push_back(parse_body({"else", "endfor"}, end, opener));
    if (end == "else") {
      expect_block_end();
      s->bodies.push_back(parse_body({"endfor"}, end, opener));
    }
    expect_block_end();
    return s;
  }

  StmtPtr parse_set() {
    const Token& opener = peek();
    auto s = node<Stmt>(Stmt::Kind::Set, next());
    s->targets.push_back(expect_name("a variable name"));
    if (is_op(".")) {
      next();
      s->attribute = expect_name("an attribute name");
    }
    if (is_op(",")) fail_at(peek(), "assigning several variables in one set is not supported");
    if (peek().kind == Tok::BlockEnd && s->attribute.empty()) {
      next();
      s->kind = Stmt::Kind::SetBlock;
      std::string end;
      s->bodies.push_back(parse_body({"endset"}, end, opener));
      expect_block_end();
      return s;
    }
    expect_op("=");
    s->expr = parse_expression();
    expect_block_end();
    return s;
  }

  // transformers' {% generation %} marks assistant text for its masks; it renders its body.
  StmtPtr parse_generation() {
    const Token& opener = peek();
    auto s = node<Stmt>(Stmt::Kind::If, next());
    expect_block_end();
    auto yes = node<Expr>(Expr::Kind::Literal, opener);
    yes->value = Value(true);
    s->conditions.push_back(std::move(yes));
    std::string end;
    s->bodies.push_back(parse_body({"endgeneration"}, end, opener));
    expect_block_end();
    return s;
  }

  // ---- expressions, lowest precedence first ----

  ExprPtr parse_expression() {
    const Nesting guard(*this);
    ExprPtr e = parse_or();
    while (is_name("if")) {
      auto c = node<Expr>(Expr::Kind::Cond, next());
      c->args.push_back(std::move(e));
      c->args.push_back(parse_or());
      if (is_name("else")) {
        next();
        c->args.push_back(parse_expression());
      } else {
        c->args.push_back(nullptr);
      }
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(const Token& at, std::string op, ExprPtr a, ExprPtr b) {
    auto n = node<Expr>(Expr::Kind::Binary, at);
    n->name = std::move(op);
    n->args.push_back(std::move(a));
    n->args.push_back(std::move(b));
    return n;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      const Token& at = next();
      e = binary(at, "or", std::move(e), parse_and());
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      const Token& at = next();
      e = binary(at, "and", std::move(e), parse_not());
    }
    return e;
  }

  ExprPtr parse_not() {
    const Nesting guard(*this);
    if (!is_name("not")) return parse_compare();
    auto n = node<Expr>(Expr::Kind::Unary, next());
    n->name = "not";
    n->args.push_back(parse_not());
    return n;
  }

  ExprPtr parse_compare() {
    ExprPtr first = parse_math1();
    std::unique_ptr<Expr> cmp;
    while (true) {
      std::string op;
      const Token& at = peek();
      if (at.kind == Tok::Op && (at.text == "==" || at.text == "!=" || at.text == "<" ||
                                 at.text == ">" || at.text == "<=" || at.text == ">=")) {
        op = next().text;
      } else if (is_name("in")) {
        next();
        op = "in";
      } else if (is_name("not") && is_name("in", 1)) {
        next();
        next();
        op = "not in";
      } else {
        break;
      }
      if (!cmp) {
        cmp = node<Expr>(Expr::Kind::Compare, at);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  template <typename Sub>
  ExprPtr left_assoc(std::initializer_list<std::string_view> ops, Sub sub) {
    ExprPtr e = (this->*sub)();
    while (peek().kind == Tok::Op && std::find(ops.begin(), ops.end(), peek().text) != ops.end()) {
      const Token& at = next();
      e = binary(at, at.text, std::move(e), (this->*sub)());
    }
    return e;
  }
  ExprPtr parse_math1() { return left_assoc({"+", "-"}, &Parser::parse_concat); }
  ExprPtr parse_concat() { return left_assoc({"~"}, &Parser::parse_math2); }
  ExprPtr parse_math2() { return left_assoc({"*", "/", "//", "%"}, &Parser::parse_pow); }
  ExprPtr parse_pow() { return left_assoc({"**"}, &Parser::parse_unary_filtered); }
  ExprPtr parse_unary_filtered() { return parse_unary(true); }

  ExprPtr parse_unary(bool with_filter) {
    const Nesting guard(*this);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = node<Expr>(Expr::Kind::Unary, peek());
      e->name = next().text;
      e->args.push_back(parse_unary(false));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    return with_filter ? parse_filters(std::move(e)) : std::move(e);
  }

  ExprPtr parse_primary();
  ExprPtr parse_postfix(ExprPtr e);
  ExprPtr parse_subscript(ExprPtr e);
  ExprPtr parse_filters(ExprPtr e);
  void parse_call_args(Expr& call);

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
};

ExprPtr Parser::parse_primary() {
  const Token& t = peek();
  if (t.kind == Tok::Name) {
    auto e = node<Expr>(Expr::Kind::Literal, next());
    const std::string& n = t.text;
    if (n == "true" || n == "True") {
      e->value = Value(true);
    } else if (n == "false" || n == "False") {
      e->value = Value(false);
    } else if (n == "none" || n == "None") {
      e->value = Value::none();
    } else {
      e->kind = Expr::Kind::Name;
      e->name = n;
    }
    return e;
  }
  if (t.kind == Tok::String) {
    auto e = node<Expr>(Expr::Kind::Literal, t);
    std::string s;
    while (peek().kind == Tok::String) s += next().text;  // "a" "b" is "ab", as in Python
    e->value = Value(std::move(s));
    return e;
  }
  if (t.kind == Tok::Int || t.kind == Tok::Float) {
    auto e = node<Expr>(Expr::Kind::Literal, next());
    e->value = t.kind == Tok::Int ? Value(t.int_value) : Value(t.float_value);
    return e;
  }
  if (is_op("(")) {
    next();
    ExprPtr e = parse_expression();
    if (is_op(",")) {  // a tuple: a list here, as nothing in a template tells them apart
      auto l = node<Expr>(Expr::Kind::List, t);
      l->args.push_back(std::move(e));
      while (is_op(",")) {
        next();
        if (is_op(")")) break;
        l->args.push_back(parse_expression());
      }
      e = std::move(l);
    }
    expect_op(")");
    return e;
  }
  if (is_op("[") || is_op("{")) {
    const bool is_dict = is_op("{");
    auto e = node<Expr>(is_dict ? Expr::Kind::Dict : Expr::Kind::List, next());
    const char* close = is_dict ? "}" : "]";
    while (!is_op(close)) {
      if (!e->args.empty()) expect_op(",");
      if (is_op(close)) break;  // trailing comma
      e->args.push_back(parse_expression());
      if (is_dict) {
        expect_op(":");
        e->args.push_back(parse_expression());
      }
    }
    next();
    return e;
  }
  fail_at(t, "expected a value, found " + describe(t));
}

ExprPtr Parser::parse_postfix(ExprPtr e) {
  while (true) {
    if (is_op(".") || is_op("[")) {
      e = parse_subscript(std::move(e));
    } else if (is_op("(")) {
      auto c = node<Expr>(Expr::Kind::Call, next());
      c->line = e->line;  // errors of a call point at what is called, not at its '('
      c->column = e->column;
      c->args.push_back(std::move(e));
      parse_call_args(*c);
      e = std::move(c);
    } else {
      return e;
    }
  }
}

ExprPtr Parser::parse_subscript(ExprPtr e) {
  const Token& at = next();
  if (at.text == ".") {
    if (peek().kind == Tok::Int) {
      auto n = node<Expr>(Expr::Kind::Item, at);
      auto index = node<Expr>(Expr::Kind::Literal, peek());
      index->value = Value(next().int_value);
      n->args.push_back(std::move(e));
      n->args.push_back(std::move(index));
      return n;
    }
    auto n = node<Expr>(Expr::Kind::Attr, at);
    n->name = expect_name("an attribute name after '.'");
    n->args.push_back(std::move(e));
    return n;
  }
  std::array<ExprPtr, 3> parts;
  bool slice = false;
  if (!is_op(":")) parts[0] = parse_expression();
  if (is_op(":")) {
    slice = true;
    next();
    if (!is_op("]") && !is_op(":")) parts[1] = parse_expression();
    if (is_op(":")) {
      next();
      if (!is_op("]")) parts[2] = parse_expression();
    }
  }
  expect_op("]");
  auto n = node<Expr>(slice ? Expr::Kind::Slice : Expr::Kind::Item, at);
  n->args.push_back(std::move(e));
  for (int k = 0; k < (slice ? 3 : 1); ++k) n->args.push_back(std::move(parts[size_t(k)]));
  return n;
}

void Parser::parse_call_args(Expr& call) {
  while (!is_op(")")) {
    if (call.args.size() > 1 || !call.kwargs.empty()) expect_op(",");  // args[0]: the callee
    if (is_op(")")) break;
    if (is_op("*") || is_op("**")) fail_at(peek(), "*args and **kwargs in calls are not supported");
    if (peek().kind == Tok::Name && is_op("=", 1)) {
      std::string key = next().text;
      next();
      call.kwargs.emplace_back(std::move(key), parse_expression());
    } else {
      if (!call.kwargs.empty()) fail_at(peek(), "positional argument after keyword argument");
      call.args.push_back(parse_expression());
    }
  }
  next();
}

ExprPtr Parser::parse_filters(ExprPtr e) {
  while (true) {
    if (is_op("|")) {
      auto f = node<Expr>(Expr::Kind::Filter, next());
      f->name = expect_name("a filter name after '|'");
      f->args.push_back(std::move(e));
      if (is_op("(")) {
        next();
        parse_call_args(*f);
      }
      e = std::move(f);
    } else if (is_name("is")) {
      auto t = node<Expr>(Expr::Kind::Test, next());
      if (is_name("not")) {
        next();
        t->negated = true;
      }
      t->name = expect_name("a test name after 'is'");
      t->args.push_back(std::move(e));
      const Token& a = peek();
      const bool primary = a.kind == Tok::Name || a.kind == Tok::String || a.kind == Tok::Int ||
                           a.kind == Tok::Float || is_op("[") || is_op("{");
      if (is_op("(")) {
        next();
        parse_call_args(*t);
      } else if (primary && !is_name("else") && !is_name("or") && !is_name("and")) {
        if (is_name("is")) fail_at(a, "tests cannot be chained with 'is'");
        t->args.push_back(parse_postfix(parse_primary()));  // `x is divisibleby 3`
      }
      e = std::move(t);
    } else if (is_op("(")) {
      auto c = node<Expr>(Expr::Kind::Call, next());
      c->args.push_back(std::move(e));
      parse_call_args(*c);
      e = std::move(c);
    } else {
      return e;
    }
  }
}

}  // namespace

Body parse_template(std::string_view source) {
  return Parser(tokenize(source)).parse_all();
}

}  // namespace llmpipe::chat
