#include "formats/hf/pickle.h"

#include <bit>
#include <cstring>
#include <unordered_map>

#include "core/error.h"

namespace llmpipe::hf {

std::string_view py_kind_name(PyValue::Kind k) {
  static constexpr std::string_view names[] = {"None",  "bool", "int",  "float",  "str",     "bytes",
                                               "tuple", "list", "dict", "global", "storage", "tensor"};
  return names[static_cast<int>(k)];
}

namespace {

using K = PyValue::Kind;

// Storage types a persistent id may name (their element sizes are checked by the loader).
constexpr std::string_view kStorageTypes[] = {
    "FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage",
    "IntStorage",   "ShortStorage", "CharStorage",    "ByteStorage",   "BoolStorage"};

constexpr size_t kMaxStack = 1 << 20;
constexpr uint64_t kMaxMemo = 1 << 24;

class Machine {
 public:
  Machine(std::span<const uint8_t> d, const std::string& what) : d_(d), what_(what) {}

  Unpickled run() {
    while (true) {
      const size_t at = pos_;
      const uint8_t op = u8();
      switch (op) {
        case 0x80: {  // PROTO
          const uint8_t v = u8();
          if (v < 2 || v > 5) bad(at, cat("pickle protocol ", int(v), " is not supported (2 to 5 are)"));
          break;
        }
        case 0x95: le(8); break;  // FRAME: framing is transparent here
        case '.': {               // STOP
          if (stack_.size() != 1 || !marks_.empty()) bad(at, "STOP with an unbalanced stack");
          Unpickled u;
          u.root = stack_.back();
          u.arena = std::move(arena_);
          return u;
        }
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '0': pop(at); break;                           // POP
        case '1': pop_mark(at); break;                      // POP_MARK
        case '2': push(top(at)); break;                     // DUP
        case 'N': push(make(K::None)); break;
        case 0x88: push(make_int(K::Bool, 1)); break;  // NEWTRUE
        case 0x89: push(make_int(K::Bool, 0)); break;  // NEWFALSE
        case 'K': push(make_int(K::Int, int64_t(u8()))); break;              // BININT1
        case 'M': push(make_int(K::Int, int64_t(le(2)))); break;             // BININT2
        case 'J': push(make_int(K::Int, int64_t(int32_t(uint32_t(le(4)))))); break;  // BININT
        case 0x8a: {  // LONG1
          const uint8_t n = u8();
          if (n > 8) bad(at, cat("LONG1 of ", int(n), " bytes (more than 64 bits)"));
          uint64_t v = le(n);
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);  // sign
          push(make_int(K::Int, int64_t(v)));
          break;
        }
        case 'G': {  // BINFLOAT: big-endian double
          uint64_t v = 0;
          for (const uint8_t c : take(8)) v = (v << 8) | c;
          PyValue* x = make(K::Float);
          x->f = std::bit_cast<double>(v);
          push(x);
          break;
        }
        case 'X': push(make_str(K::String, take(le(4)))); break;     // BINUNICODE
        case 0x8c: push(make_str(K::String, take(u8()))); break;     // SHORT_BINUNICODE
        case 0x8d: push(make_str(K::String, take(le(8)))); break;    // BINUNICODE8
        case 'B': push(make_str(K::Bytes, take(le(4)))); break;      // BINBYTES
        case 'C': push(make_str(K::Bytes, take(u8()))); break;       // SHORT_BINBYTES
        case 'T': push(make_str(K::String, take(le(4)))); break;     // BINSTRING
        case 'U': push(make_str(K::String, take(u8()))); break;      // SHORT_BINSTRING
        case ')': push(make(K::Tuple)); break;                       // EMPTY_TUPLE
        case 0x85: tuple_of(at, 1); break;                           // TUPLE1
        case 0x86: tuple_of(at, 2); break;                           // TUPLE2
        case 0x87: tuple_of(at, 3); break;                           // TUPLE3
        case 't': {                                                  // TUPLE
          PyValue* x = make(K::Tuple);
          x->items = pop_mark(at);
          push(x);
          break;
        }
        case ']': push(make(K::List)); break;  // EMPTY_LIST
        case 'l': {                            // LIST
          PyValue* x = make(K::List);
          x->items = pop_mark(at);
          push(x);
          break;
        }
        case '}': push(make(K::Dict)); break;  // EMPTY_DICT
        case 'd': {                            // DICT
          PyValue* x = make(K::Dict);
          set_items(at, x, pop_mark(at));
          push(x);
          break;
        }
        case 'a': {  // APPEND
          const PyValue* v = pop(at);
          mutable_top(at, K::List)->items.push_back(v);
          break;
        }
        case 'e': {  // APPENDS
          auto vs = pop_mark(at);
          auto& items = mutable_top(at, K::List)->items;
          items.insert(items.end(), vs.begin(), vs.end());
          break;
        }
        case 's': {  // SETITEM
          const PyValue* v = pop(at);
          const PyValue* k = pop(at);
          set_items(at, mutable_top(at, K::Dict), {k, v});
          break;
        }
        case 'u': {  // SETITEMS
          auto kv = pop_mark(at);
          set_items(at, mutable_top(at, K::Dict), kv);
          break;
        }
        case 'q': memo_put(at, u8()); break;      // BINPUT
        case 'r': memo_put(at, le(4)); break;     // LONG_BINPUT
        case 0x94: memo_put(at, memo_.size()); break;  // MEMOIZE
        case 'h': push(memo_get(at, u8())); break;   // BINGET
        case 'j': push(memo_get(at, le(4))); break;  // LONG_BINGET
        case 'c': {                                  // GLOBAL "module\nname\n"
          const std::string module = line(at), name = line(at);
          push(global(at, module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const PyValue* name = pop(at);
          const PyValue* module = pop(at);
          if (module->kind != K::String || name->kind != K::String) bad(at, "STACK_GLOBAL needs two strings");
          push(global(at, module->s, name->s));
          break;
        }
        case 'Q': push(persistent(at, pop(at))); break;  // BINPERSID
        case 'R': {                                      // REDUCE
          const PyValue* args = pop(at);
          const PyValue* fn = pop(at);
          push(reduce(at, fn, args));
          break;
        }
        case 'b': {  // BUILD: state of an OrderedDict (_metadata) or tensor: ignored
          pop(at);
          const PyValue* obj = top(at);
          if (obj->kind != K::Dict && obj->kind != K::Tensor)
            bad(at, cat("BUILD on a ", py_kind_name(obj->kind)));
          break;
        }
        default:
          bad(at, cat("unsupported pickle opcode 0x", hex(op),
                      " (a torch.save state dict needs only protocol 2 opcodes)"));
      }
    }
  }

 private:
  [[noreturn]] void bad(size_t at, const std::string& msg) const {
    fail(what_, ": ", msg, " (at byte ", at, ")");
  }
  static std::string hex(uint8_t b) {
    const char* digits = "0123456789abcdef";
    return {digits[b >> 4], digits[b & 15]};
  }
  std::span<const uint8_t> take(uint64_t n) {
    if (n > d_.size() - pos_) bad(pos_, "truncated pickle");
    auto s = d_.subspan(pos_, size_t(n));
    pos_ += size_t(n);
    return s;
  }
  uint8_t u8() { return take(1)[0]; }
  uint64_t le(int n) {
    uint64_t v = 0;
    const auto b = take(uint64_t(n));
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[size_t(i)];
    return v;
  }
  std::string line(size_t at) {
    std::string s;
    while (true) {
      const uint8_t c = u8();
      if (c == '\n') return s;
      if (s.size() > 256) bad(at, "GLOBAL name too long");
      s.push_back(char(c));
    }
  }
  PyValue* make(K k) {
    arena_.push_back(std::make_unique<PyValue>());
    arena_.back()->kind = k;
    return arena_.back().get();
  }
  PyValue* make_int(K k, int64_t v) {
    PyValue* x = make(k);
    x->i = v;
    return x;
  }
  PyValue* make_str(K k, std::span<const uint8_t> b) {
    PyValue* x = make(k);
    x->s.assign(b.begin(), b.end());
    return x;
  }
  void push(const PyValue* v) {
    if (stack_.size() >= kMaxStack) bad(pos_, "pickle stack too deep");
    stack_.push_back(v);
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  const PyValue* pop(size_t at) {
    if (stack_.size() <= floor()) bad(at, "pickle stack underflow");
    const PyValue* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  const PyValue* top(size_t at) const {
    if (stack_.size() <= floor()) bad(at, "pickle stack underflow");
    return stack_.back();
  }
  // Containers are created by this machine, so mutating them through the stack is fine.
  PyValue* mutable_top(size_t at, K k) {
    const PyValue* t = top(at);
    if (t->kind != k)
      bad(at, cat("expected a ", py_kind_name(k), " on the stack, found ", py_kind_name(t->kind)));
    return const_cast<PyValue*>(t);
  }
  std::vector<const PyValue*> pop_mark(size_t at) {
    if (marks_.empty()) bad(at, "pickle MARK missing");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<const PyValue*> v(stack_.begin() + long(m), stack_.end());
    stack_.resize(m);
    return v;
  }
  void tuple_of(size_t at, int n) {
    PyValue* x = make(K::Tuple);
    x->items.resize(size_t(n));
    for (int i = n - 1; i >= 0; --i) x->items[size_t(i)] = pop(at);
    push(x);
  }
  void set_items(size_t at, PyValue* d, const std::vector<const PyValue*>& kv) {
    if (kv.size() % 2) bad(at, "odd number of items for a dict");
    for (size_t i = 0; i < kv.size(); i += 2) d->dict.emplace_back(kv[i], kv[i + 1]);
  }
  void memo_put(size_t at, uint64_t idx) {
    if (idx > kMaxMemo) bad(at, cat("memo index ", idx, " is absurd"));
    memo_[idx] = top(at);
  }
  const PyValue* memo_get(size_t at, uint64_t idx) {
    const auto it = memo_.find(idx);
    if (it == memo_.end()) bad(at, cat("memo index ", idx, " was never stored"));
    return it->second;
  }
  const PyValue* global(size_t at, const std::string& module, const std::string& name) {
    bool ok = (module == "collections" && name == "OrderedDict") ||
              (module == "torch._utils" && name == "_rebuild_tensor_v2");
    if (module == "torch")
      for (const auto s : kStorageTypes) ok = ok || name == s;
    if (!ok)
      bad(at, cat("pickle global ", module, ".", name,
                  " is not allowed: a state dict needs only collections.OrderedDict, "
                  "torch._utils._rebuild_tensor_v2 and torch.*Storage (the file is not a plain "
                  "state dict, or is malicious; nothing was executed)"));
    PyValue* g = make(K::Global);
    g->s = module + "." + name;
    return g;
  }
  // ('storage', torch.XStorage, key, location, numel)
  const PyValue* persistent(size_t at, const PyValue* pid) {
    const auto& t = pid->items;
    if (pid->kind != K::Tuple || t.size() != 5 || t[0]->kind != K::String || t[0]->s != "storage" ||
        t[1]->kind != K::Global || !t[1]->s.starts_with("torch.") || t[2]->kind != K::String ||
        t[4]->kind != K::Int || t[4]->i < 0)
      bad(at, "persistent id is not ('storage', torch.<Type>Storage, key, location, numel)");
    PyValue* s = make(K::Storage);
    s->s2 = t[1]->s.substr(6);
    s->s = t[2]->s;
    s->i = t[4]->i;
    return s;
  }
  std::vector<int64_t> ints(size_t at, const PyValue* v, const char* what) {
    if (v->kind != K::Tuple) bad(at, cat("tensor ", what, " is not a tuple"));
    std::vector<int64_t> out;
    for (const PyValue* e : v->items) {
      if (e->kind != K::Int) bad(at, cat("tensor ", what, " holds a ", py_kind_name(e->kind)));
      out.push_back(e->i);
    }
    return out;
  }
  const PyValue* reduce(size_t at, const PyValue* fn, const PyValue* args) {
    if (fn->kind != K::Global) bad(at, cat("REDUCE calls a ", py_kind_name(fn->kind)));
    if (args->kind != K::Tuple) bad(at, "REDUCE arguments are not a tuple");
    const auto& a = args->items;
    if (fn->s == "collections.OrderedDict") {
      if (!a.empty()) bad(at, "OrderedDict called with arguments");
      return make(K::Dict);
    }
    if (fn->s == "torch._utils._rebuild_tensor_v2") {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (a.size() < 4 || a[0]->kind != K::Storage || a[1]->kind != K::Int)
        bad(at, "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)");
      PyValue* t = make(K::Tensor);
      t->items = {a[0]};
      t->i = a[1]->i;
      t->size = ints(at, a[2], "size");
      t->stride = ints(at, a[3], "stride");
      return t;
    }
    bad(at, cat("REDUCE on ", fn->s, " is not allowed"));
  }

  std::span<const uint8_t> d_;
  const std::string& what_;
  size_t pos_ = 0;
  std::vector<const PyValue*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, const PyValue*> memo_;
  std::vector<std::unique_ptr<PyValue>> arena_;
};

}  // namespace

Unpickled unpickle(std::span<const uint8_t> data, const std::string& what) {
  return Machine(data, what).run();
}

}  // namespace llmpipe::hf
