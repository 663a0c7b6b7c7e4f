// Reads a SentencePiece `tokenizer.model` (protobuf ModelProto) without libprotobuf: a small,
// bounds-checked wire-format reader for the few fields the tokenizer needs.
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>

#include "core/error.h"
#include "tokenizer/vocab.h"

namespace llmpipe {

namespace {

class Wire {
 public:
  Wire(std::span<const uint8_t> data, const std::string& file, size_t base = 0)
      : d_(data), file_(file), base_(base) {}
  bool done() const { return pos_ >= d_.size(); }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      const uint8_t b = d_[pos_++];
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    bad("varint too long");
  }
  std::span<const uint8_t> bytes() {
    const uint64_t n = varint();
    need(n);
    auto s = d_.subspan(pos_, size_t(n));
    pos_ += size_t(n);
    return s;
  }
  float f32() {
    need(4);
    float f;
    std::memcpy(&f, d_.data() + pos_, 4);
    pos_ += 4;
    return f;
  }
  void skip(uint32_t wire_type) {
    switch (wire_type) {
      case 0:
        varint();
        return;
      case 1:
        need(8);
        pos_ += 8;
        return;
      case 2:
        bytes();
        return;
      case 5:
        need(4);
        pos_ += 4;
        return;
      default:
        bad("unsupported wire type " + std::to_string(wire_type));
    }
  }
  size_t offset() const { return base_ + pos_; }
  size_t sub_base() const { return base_ + pos_; }
  [[noreturn]] void bad(const std::string& what) const {
    fail(file_, ": not a valid SentencePiece model (", what, " at byte ", base_ + pos_, ")");
  }

 private:
  void need(uint64_t n) const {
    if (n > d_.size() - pos_) bad("truncated field");
  }
  std::span<const uint8_t> d_;
  const std::string& file_;
  size_t base_;
  size_t pos_ = 0;
};

void read_piece(std::span<const uint8_t> msg, const std::string& file, size_t base, Vocab& v) {
  Wire w(msg, file, base);
  std::string piece;
  float score = 0;
  int64_t type = 1;  // NORMAL
  while (!w.done()) {
    const uint64_t key = w.varint();
    const uint32_t field = uint32_t(key >> 3), wt = uint32_t(key & 7);
    if (field == 1 && wt == 2) {
      const auto b = w.bytes();
      piece.assign(b.begin(), b.end());
    } else if (field == 2 && wt == 5) {
      score = w.f32();
    } else if (field == 3 && wt == 0) {
      type = int64_t(w.varint());
      if (type < 1 || type > 6) w.bad("unknown piece type " + std::to_string(type));
    } else {
      w.skip(wt);
    }
  }
  v.tokens.push_back(std::move(piece));
  v.scores.push_back(score);
  v.types.push_back(TokenType(type));
}

}  // namespace

Vocab vocab_from_sentencepiece_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open tokenizer model ", path);
  const std::vector<uint8_t> data{std::istreambuf_iterator<char>(f), {}};
  Vocab v;
  v.pad_id.reset();
  int64_t model_type = 2;  // BPE
  Wire w(data, path);
  while (!w.done()) {
    const uint64_t key = w.varint();
    const uint32_t field = uint32_t(key >> 3), wt = uint32_t(key & 7);
    if (field == 1 && wt == 2) {
      const size_t base = w.sub_base();
      read_piece(w.bytes(), path, base, v);
    } else if (field == 2 && wt == 2) {  // TrainerSpec
      const size_t base = w.sub_base();
      Wire t(w.bytes(), path, base);
      while (!t.done()) {
        const uint64_t k = t.varint();
        const uint32_t fl = uint32_t(k >> 3), tw = uint32_t(k & 7);
        if (tw != 0) {
          t.skip(tw);
          continue;
        }
        const auto value = int32_t(t.varint());
        if (fl == 3) model_type = value;
        if (fl == 40) v.unk_id = value;
        if (fl == 41) v.bos_id = value;
        if (fl == 42) v.eos_id = value;
        if (fl == 43 && value >= 0) v.pad_id = value;
      }
    } else if (field == 3 && wt == 2) {  // NormalizerSpec
      const size_t base = w.sub_base();
      Wire n(w.bytes(), path, base);
      while (!n.done()) {
        const uint64_t k = n.varint();
        const uint32_t fl = uint32_t(k >> 3), tw = uint32_t(k & 7);
        if (fl == 3 && tw == 0)
          v.add_space_prefix = n.varint() != 0;
        else
          n.skip(tw);
      }
    } else {
      w.skip(wt);
    }
  }
  if (v.tokens.empty()) fail(path, ": not a valid SentencePiece model (no pieces)");
  if (model_type != 2)
    fail(path, ": SentencePiece model type ", model_type,
         " is not supported: only BPE models (type 2, as LLaMA uses) are");
  const int32_t n = v.size();
  for (int32_t id : {v.unk_id, v.bos_id, v.eos_id})
    if (id < 0 || id >= n) fail(path, ": special token id ", id, " outside the vocabulary of ", n);
  return v;
}

}  // namespace llmpipe
