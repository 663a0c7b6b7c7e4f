#include "chat/evaluator.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "chat/builtins.h"
#include "chat/chat_template.h"
#include "chat/lexer.h"
#include "chat/utf8.h"

namespace llmpipe::chat {

namespace {

[[noreturn]] void undefined_used(const Value& v) {
  fail(v.undefined_hint().empty() ? "an undefined value was used" : v.undefined_hint());
}

Value arithmetic(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) undefined_used(a);
  if (b.is_undefined()) undefined_used(b);
  const bool ints = a.is_int() && b.is_int();
  if (a.is_number() && b.is_number()) {
    const double x = a.as_float(), y = b.as_float();
    if ((op == "/" || op == "//" || op == "%") && y == 0) fail("division by zero");
    if (op == "+") return ints ? Value(a.as_int() + b.as_int()) : Value(x + y);
    if (op == "-") return ints ? Value(a.as_int() - b.as_int()) : Value(x - y);
    if (op == "*") return ints ? Value(a.as_int() * b.as_int()) : Value(x * y);
    if (op == "/") return Value(x / y);
    if (op == "//") {
      if (!ints) return Value(std::floor(x / y));
      const int64_t q = a.as_int() / b.as_int();
      return Value(q - ((a.as_int() % b.as_int() != 0) && ((a.as_int() < 0) != (b.as_int() < 0))));
    }
    if (op == "%") {
      if (!ints) return Value(x - y * std::floor(x / y));
      const int64_t r = a.as_int() % b.as_int();
      return Value(r != 0 && ((r < 0) != (b.as_int() < 0)) ? r + b.as_int() : r);
    }
    if (op == "**") {
      const double p = std::pow(x, y);
      if (!ints || b.as_int() < 0) return Value(p);
      if (!(std::abs(p) < 9.2e18)) fail("integer result of ** is too large");
      return Value(int64_t(p));
    }
  }
  if (op == "+" && a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
  if (op == "+" && a.is_list() && b.is_list()) {
    List l = a.as_list();
    l.insert(l.end(), b.as_list().begin(), b.as_list().end());
    return Value(std::move(l));
  }
  if (op == "*" && (a.is_string() || a.is_list()) && b.is_int()) {
    const auto n = double(a.is_string() ? a.as_string().size() : a.as_list().size());
    if (n * double(b.as_int()) > 1e7) fail("repetition longer than 10 million items");
    if (a.is_string()) {
      std::string s;
      for (int64_t i = 0; i < b.as_int(); ++i) s += a.as_string();
      return Value(std::move(s));
    }
    List l;
    for (int64_t i = 0; i < b.as_int(); ++i)
      l.insert(l.end(), a.as_list().begin(), a.as_list().end());
    return Value(std::move(l));
  }
  if (op == "%" && a.is_string()) fail("printf-style string formatting (str % x) is not supported");
  fail("unsupported operand type(s) for ", op, ": '", a.type_name(), "' and '", b.type_name(), "'");
}

// Python's slice.indices() then the selected positions.
std::vector<int64_t> slice_positions(int64_t n, std::optional<int64_t> start,
                                     std::optional<int64_t> stop, std::optional<int64_t> step_in) {
  const int64_t step = step_in.value_or(1);
  if (step == 0) fail("slice step cannot be zero");
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v < 0 ? *v + n : *v;
    if (step > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  const int64_t b = clamp(start, step > 0 ? 0 : n - 1), e = clamp(stop, step > 0 ? n : -1);
  std::vector<int64_t> out;
  for (int64_t i = b; step > 0 ? i < e : i > e; i += step) out.push_back(i);
  return out;
}

}  // namespace

Evaluator::Evaluator(Dict globals) : globals_(std::move(globals)) {
  scopes_.emplace_back();
}

std::string Evaluator::render(const Body& body) {
  std::string out;
  run(body, out);
  return out;
}

Evaluator::Flow Evaluator::run(const Body& body, std::string& out) {
  for (const StmtPtr& s : body) {
    const Flow f = run_stmt(*s, out);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

void Evaluator::step(const Stmt& s, const std::string& out) {
  if (++steps_ > kMaxSteps)
    fail("chat template ", where(s.line, s.column), ": rendering takes more than ", kMaxSteps,
         " steps (statements and loop iterations): the template loops far more than a chat needs");
  if (out.size() > kMaxOutput)
    fail("chat template ", where(s.line, s.column), ": output longer than ", kMaxOutput >> 20, " MiB");
}

Evaluator::Flow Evaluator::run_stmt(const Stmt& s, std::string& out) {
  step(s, out);
  switch (s.kind) {
    case Stmt::Kind::Text:
      out += s.text;
      return Flow::Normal;
    case Stmt::Kind::Output:
      out += eval(*s.expr).str();
      return Flow::Normal;
    case Stmt::Kind::If:
      for (size_t i = 0; i < s.conditions.size(); ++i)
        if (eval(*s.conditions[i]).truthy()) return run(s.bodies[i], out);
      return s.bodies.size() > s.conditions.size() ? run(s.bodies.back(), out) : Flow::Normal;
    case Stmt::Kind::For:
      return run_for(s, out);
    case Stmt::Kind::Set:
    case Stmt::Kind::SetBlock:
      run_set(s, out);
      return Flow::Normal;
    case Stmt::Kind::Break:
      return Flow::Break;
    case Stmt::Kind::Continue:
      return Flow::Continue;
  }
  return Flow::Normal;
}

Evaluator::Flow Evaluator::run_for(const Stmt& s, std::string& out) {
  const Value iterable = eval(*s.expr);
  if (iterable.is_none() || iterable.is_number() || iterable.is_function())
    fail("chat template ", where(s.line, s.column), ": '", iterable.type_name(),
         "' object is not iterable");
  List items;
  // `for x in xs if cond` filters first: loop.index and loop.length count kept items only.
  for (Value& item : iterate(iterable)) {
    if (s.filter) {
      step(s, out);
      scopes_.emplace_back();
      bind_targets(s, item);
      const bool keep = eval(*s.filter).truthy();
      scopes_.pop_back();
      if (!keep) continue;
    }
    items.push_back(std::move(item));
  }
  const auto n = int64_t(items.size());
  for (int64_t i = 0; i < n; ++i) {
    step(s, out);
    Dict loop;
    loop.set("index", Value(i + 1));
    loop.set("index0", Value(i));
    loop.set("revindex", Value(n - i));
    loop.set("revindex0", Value(n - i - 1));
    loop.set("first", Value(i == 0));
    loop.set("last", Value(i == n - 1));
    loop.set("length", Value(n));
    loop.set("depth", Value(1));
    loop.set("depth0", Value(0));
    loop.set("previtem",
             i > 0 ? items[size_t(i - 1)] : Value::undefined("there is no previous item"));
    loop.set("nextitem",
             i + 1 < n ? items[size_t(i + 1)] : Value::undefined("there is no next item"));
    scopes_.emplace_back();
    scopes_.back()["loop"] = Value(std::move(loop));
    bind_targets(s, items[size_t(i)]);
    const Flow f = run(s.bodies[0], out);
    scopes_.pop_back();
    if (f == Flow::Break) break;
  }
  if (n == 0 && s.bodies.size() > 1) return run(s.bodies[1], out);
  return Flow::Normal;
}

void Evaluator::bind_targets(const Stmt& s, const Value& item) {
  auto& scope = scopes_.back();
  if (s.targets.size() == 1) {
    scope[s.targets[0]] = item;
    return;
  }
  if (!item.is_list() || item.as_list().size() != s.targets.size())
    fail("chat template ", where(s.line, s.column), ": cannot unpack ", item.type_name(), " into ",
         s.targets.size(), " loop variables");
  for (size_t k = 0; k < s.targets.size(); ++k) scope[s.targets[k]] = item.as_list()[k];
}

void Evaluator::run_set(const Stmt& s, std::string& out) {
  (void)out;
  Value v;
  if (s.kind == Stmt::Kind::SetBlock) {
    std::string captured;
    run(s.bodies[0], captured);
    v = Value(std::move(captured));
  } else {
    v = eval(*s.expr);
  }
  if (s.attribute.empty()) return assign(s.targets[0], std::move(v));
  const Value target = lookup(s.targets[0]);
  if (!target.is_dict() || !target.as_dict().is_namespace)
    fail("chat template ", where(s.line, s.column), ": cannot assign attribute '", s.attribute,
         "' of ", s.targets[0], ", which is a ", target.type_name(), ", not a namespace()");
  target.as_dict().set(s.attribute, std::move(v));
}

Value Evaluator::lookup(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
    if (auto f = it->find(name); f != it->end()) return f->second;
  if (const Value* g = globals_.find(name)) return *g;
  return Value::undefined("'" + name + "' is undefined");
}

void Evaluator::assign(const std::string& name, Value v) {
  scopes_.back()[name] = std::move(v);
}

Value Evaluator::eval(const Expr& e) {
  try {
    return eval_node(e);
  } catch (const TemplateError&) {
    throw;
  } catch (const TemplateRaised& r) {
    throw TemplateError(cat("chat template ", where(e.line, e.column),
                            ": the template raised an exception: ", r.what()),
                        true, r.what());
  } catch (const Error& err) {
    throw TemplateError(cat("chat template ", where(e.line, e.column), ": ", err.what()), false,
                        err.what());
  }
}

Args Evaluator::eval_args(const Expr& e) {
  Args a;
  for (size_t i = 1; i < e.args.size(); ++i) a.pos.push_back(eval(*e.args[i]));
  for (const auto& [k, v] : e.kwargs) a.kw.emplace_back(k, eval(*v));
  return a;
}

Value Evaluator::eval_node(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Literal:
      return e.value;
    case Expr::Kind::Name:
      return lookup(e.name);
    case Expr::Kind::List: {
      List l;
      for (const auto& a : e.args) l.push_back(eval(*a));
      return Value(std::move(l));
    }
    case Expr::Kind::Dict: {
      Dict d;
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        const Value k = eval(*e.args[i]);
        if (!k.is_string()) fail("dict keys must be strings here, not ", k.type_name());
        d.set(k.as_string(), eval(*e.args[i + 1]));
      }
      return Value(std::move(d));
    }
    case Expr::Kind::Attr:
      return get_attribute(eval(*e.args[0]), e.name);
    case Expr::Kind::Item:
      return get_item(eval(*e.args[0]), eval(*e.args[1]));
    case Expr::Kind::Slice:
      return eval_slice(e);
    case Expr::Kind::Call:
      return eval_call(e);
    case Expr::Kind::Filter: {
      const Value subject = eval(*e.args[0]);
      Args a = eval_args(e);
      return apply_filter(e.name, subject, a);
    }
    case Expr::Kind::Test: {
      const Value subject = eval(*e.args[0]);
      Args a = eval_args(e);
      return Value(apply_test(e.name, subject, a) != e.negated);
    }
    case Expr::Kind::Unary: {
      const Value v = eval(*e.args[0]);
      if (e.name == "not") return Value(!v.truthy());
      if (!v.is_number()) fail("bad operand type for unary ", e.name, ": '", v.type_name(), "'");
      if (e.name == "+") return v.is_bool() ? Value(v.as_int()) : v;
      return v.is_int() ? Value(-v.as_int()) : Value(-v.as_float());
    }
    case Expr::Kind::Binary:
      return eval_binary(e);
    case Expr::Kind::Compare:
      return eval_compare(e);
    case Expr::Kind::Cond:
      if (eval(*e.args[1]).truthy()) return eval(*e.args[0]);
      return e.args[2] ? eval(*e.args[2]) : Value::undefined("the if expression had no else");
  }
  return Value();
}

Value Evaluator::eval_binary(const Expr& e) {
  Value a = eval(*e.args[0]);
  if (e.name == "and") return a.truthy() ? eval(*e.args[1]) : a;
  if (e.name == "or") return a.truthy() ? a : eval(*e.args[1]);
  const Value b = eval(*e.args[1]);
  if (e.name == "~") return Value(a.str() + b.str());
  return arithmetic(e.name, a, b);
}

Value Evaluator::eval_compare(const Expr& e) {
  Value left = eval(*e.args[0]);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.args[i + 1]);
    const std::string& op = e.ops[i];
    bool r;
    if (op == "==")
      r = equal(left, right);
    else if (op == "!=")
      r = !equal(left, right);
    else if (op == "<")
      r = less(left, right);
    else if (op == ">")
      r = less(right, left);
    else if (op == "<=")
      r = !less(right, left);
    else if (op == ">=")
      r = !less(left, right);
    else if (op == "in")
      r = contains(right, left);
    else
      r = !contains(right, left);
    if (!r) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Value Evaluator::eval_call(const Expr& e) {
  const Value callee = eval(*e.args[0]);
  if (callee.is_undefined()) undefined_used(callee);
  if (!callee.is_function()) fail("'", callee.type_name(), "' object is not callable");
  Args a = eval_args(e);
  return callee.as_function().call(a);
}

Value Evaluator::eval_slice(const Expr& e) {
  const Value obj = eval(*e.args[0]);
  std::optional<int64_t> part[3];
  for (int k = 0; k < 3; ++k) {
    if (!e.args[size_t(k) + 1]) continue;
    const Value v = eval(*e.args[size_t(k) + 1]);
    if (v.is_none()) continue;
    if (!v.is_int()) fail("slice indices must be integers or None, not ", v.type_name());
    part[k] = v.as_int();
  }
  if (obj.is_undefined()) undefined_used(obj);
  if (obj.is_list()) {
    List out;
    for (int64_t i : slice_positions(int64_t(obj.as_list().size()), part[0], part[1], part[2]))
      out.push_back(obj.as_list()[size_t(i)]);
    return Value(std::move(out));
  }
  if (obj.is_string()) {
    const std::u32string s = utf8_decode(obj.as_string());
    std::u32string out;
    for (int64_t i : slice_positions(int64_t(s.size()), part[0], part[1], part[2]))
      out.push_back(s[size_t(i)]);
    return Value(utf8_encode(out));
  }
  fail("'", obj.type_name(), "' object cannot be sliced");
}

}  // namespace llmpipe::chat
