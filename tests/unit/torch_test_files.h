// Builders of torch.save-format files for the loader tests: protocol-2 pickles of state dicts
// (opcode by opcode, as torch.save emits them) and stored zip archives.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace llmpipe::test {

class PickleBuilder {
 public:
  PickleBuilder& op(uint8_t c) {
    b.push_back(c);
    return *this;
  }
  PickleBuilder& raw(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  PickleBuilder& str(const std::string& s) {  // BINUNICODE
    op('X');
    for (int i = 0; i < 4; ++i) b.push_back(uint8_t(s.size() >> (8 * i)));
    return raw(s);
  }
  PickleBuilder& integer(int64_t v) {
    if (v >= 0 && v < 256) return op('K').op(uint8_t(v));
    op('J');
    for (int i = 0; i < 4; ++i) b.push_back(uint8_t(uint32_t(int32_t(v)) >> (8 * i)));
    return *this;
  }
  PickleBuilder& global(const std::string& module, const std::string& name) {
    return op('c').raw(module + "\n" + name + "\n");
  }
  PickleBuilder& ints(const std::vector<int64_t>& v) {  // a tuple of ints
    op('(');
    for (const auto x : v) integer(x);
    return op('t');
  }
  // _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False,
  // OrderedDict())
  PickleBuilder& tensor(const std::string& type, const std::string& key, int64_t numel,
                        int64_t offset, const std::vector<int64_t>& size,
                        const std::vector<int64_t>& stride) {
    global("torch._utils", "_rebuild_tensor_v2").op('(');
    op('(').str("storage").global("torch", type).str(key).str("cpu").integer(numel).op('t').op('Q');
    integer(offset).ints(size).ints(stride).op(0x89);
    global("collections", "OrderedDict").op(')').op('R');
    return op('t').op('R');
  }
  PickleBuilder& begin_state_dict() {
    return op(0x80).op(2).global("collections", "OrderedDict").op('q').op(0).op(')').op('R').op('(');
  }
  PickleBuilder& end_state_dict() { return op('u').op('.'); }

  std::vector<uint8_t> b;
};

inline void put_le(std::vector<uint8_t>& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

// A zip archive of stored entries (method may be forced to test compressed entries).
inline std::vector<uint8_t> zip_bytes(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& entries,
                                      uint16_t method = 0) {
  std::vector<uint8_t> out, cd;
  for (const auto& [name, data] : entries) {
    const uint64_t local = out.size();
    put_le(out, 0x04034b50, 4);
    put_le(out, 20, 2);
    put_le(out, 0, 2);
    put_le(out, method, 2);
    put_le(out, 0, 4);  // time, date
    put_le(out, 0, 4);  // crc (not checked)
    put_le(out, data.size(), 4);
    put_le(out, data.size(), 4);
    put_le(out, name.size(), 2);
    put_le(out, 0, 2);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), data.begin(), data.end());
    put_le(cd, 0x02014b50, 4);
    put_le(cd, 20, 2);
    put_le(cd, 20, 2);
    put_le(cd, 0, 2);
    put_le(cd, method, 2);
    put_le(cd, 0, 4);
    put_le(cd, 0, 4);
    put_le(cd, data.size(), 4);
    put_le(cd, data.size(), 4);
    put_le(cd, name.size(), 2);
    put_le(cd, 0, 2);
    put_le(cd, 0, 2);
    put_le(cd, 0, 2);
    put_le(cd, 0, 2);
    put_le(cd, 0, 4);
    put_le(cd, local, 4);
    cd.insert(cd.end(), name.begin(), name.end());
  }
  const uint64_t cd_offset = out.size();
  out.insert(out.end(), cd.begin(), cd.end());
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 4);
  put_le(out, entries.size(), 2);
  put_le(out, entries.size(), 2);
  put_le(out, cd.size(), 4);
  put_le(out, cd_offset, 4);
  put_le(out, 0, 2);
  return out;
}

}  // namespace llmpipe::test
