// A minimal, safe unpickler for torch.save's data.pkl. It interprets the opcodes of pickle
// protocols 2-4 that state dicts use and builds plain values; the only callables it knows are
// collections.OrderedDict and torch._utils._rebuild_tensor_v2, and the only other globals it
// accepts are torch.*Storage types (named by persistent ids). Any other global (os.system,
// builtins.eval, ...) is an Error naming it: no code from the file is ever run.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace llmpipe::hf {

struct PyValue {
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t i = 0;     // Bool, Int; Storage: numel; Tensor: storage offset (elements)
  double f = 0;      // Float
  std::string s;     // String, Bytes; Global: "module.name"; Storage: key
  std::string s2;    // Storage: storage type ("FloatStorage", ...)
  std::vector<const PyValue*> items;                          // Tuple, List; Tensor: {storage}
  std::vector<std::pair<const PyValue*, const PyValue*>> dict;  // Dict (insertion order)
  std::vector<int64_t> size, stride;                          // Tensor
};

std::string_view py_kind_name(PyValue::Kind k);

// Owns every value (values may share or even cycle through the memo).
struct Unpickled {
  std::vector<std::unique_ptr<PyValue>> arena;
  const PyValue* root = nullptr;
};

// Interprets `data`; `what` names it in errors ("x.bin: archive/data.pkl").
Unpickled unpickle(std::span<const uint8_t> data, const std::string& what);

}  // namespace llmpipe::hf
