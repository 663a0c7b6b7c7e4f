#include "pipeline/messages.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "kernels/cpu/quantize.h"

namespace llmpipe {

namespace {

// In place of an activation type: the activations follow over the hop's device link.
constexpr uint32_t kHiddenOnDevice = 0xD0;

class Writer {
 public:
  template <typename T>
  void put(const T& v) {
    append(&v, sizeof v);
  }
  template <typename T>
  void put_vec(const std::vector<T>& v) {
    put(uint64_t(v.size()));
    append(v.data(), v.size() * sizeof(T));
  }
  Bytes take() { return std::move(out_); }

 private:
  void append(const void* p, size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  Bytes out_;
};

// Reads with bounds checks: a malformed message is an error, never an overread.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) : in_(in) {}
  template <typename T>
  T get() {
    T v;
    take(&v, sizeof v);
    return v;
  }
  template <typename T>
  std::vector<T> get_vec() {
    const auto n = get<uint64_t>();
    if (n > (in_.size() - pos_) / sizeof(T)) fail("malformed pipeline message: vector too long");
    std::vector<T> v(n);
    take(v.data(), n * sizeof(T));
    return v;
  }

 private:
  void take(void* dst, size_t n) {
    if (n > in_.size() - pos_) fail("malformed pipeline message: truncated");
    if (n > 0) std::memcpy(dst, in_.data() + pos_, n);  // an empty vector's data may be null
    pos_ += n;
  }
  std::span<const std::byte> in_;
  size_t pos_ = 0;
};

}  // namespace

Bytes encode_batch(const BatchMessage& m, DType hidden_type) {
  Writer w;
  w.put(MessageKind::Batch);
  w.put(m.batch_id);
  w.put_vec(m.positions);
  w.put_vec(m.slots);
  w.put_vec(m.logit_rows);
  w.put_vec(m.samples);
  w.put_vec(m.targets);
  if (m.hidden_on_device) {
    if (!m.hidden.empty()) fail("a batch with device activations carries host activations too");
    w.put(kHiddenOnDevice);
    return w.take();
  }
  w.put(uint32_t(hidden_type));
  switch (hidden_type) {
    case DType::F32:
      w.put_vec(m.hidden);
      break;
    case DType::F16:
    case DType::BF16: {
      std::vector<uint16_t> half(m.hidden.size());
      for (size_t i = 0; i < half.size(); ++i)
        half[i] = hidden_type == DType::F16 ? f32_to_f16(m.hidden[i]) : f32_to_bf16(m.hidden[i]);
      w.put_vec(half);
      break;
    }
    case DType::Q8_0: {  // blocks of 32 values: one F16 scale, 32 signed bytes
      const int64_t n = int64_t(m.hidden.size());
      if (n % kQK != 0)
        fail("q8_0 activation hops need a multiple of ", kQK, " values per batch, got ", n,
             " (use --hop-type f16)");
      std::vector<uint8_t> q(dtype_row_bytes(DType::Q8_0, n));
      cpu::quantize_row(DType::Q8_0, m.hidden.data(), q.data(), n);
      w.put(uint64_t(n));
      w.put_vec(q);
      break;
    }
    default:
      fail("activations cannot travel as ", dtype_name(hidden_type));
  }
  return w.take();
}

Bytes encode_shutdown() {
  Writer w;
  w.put(MessageKind::Shutdown);
  return w.take();
}

Bytes encode_tokens(const TokensMessage& m) {
  Writer w;
  w.put(MessageKind::Tokens);
  w.put(m.batch_id);
  w.put_vec(m.tokens);
  w.put_vec(m.nll);
  return w.take();
}

MessageKind message_kind(std::span<const std::byte> bytes) {
  Reader r(bytes);
  const auto k = r.get<MessageKind>();
  if (k != MessageKind::Batch && k != MessageKind::Shutdown && k != MessageKind::Tokens)
    fail("malformed pipeline message: unknown kind ", uint32_t(k));
  return k;
}

BatchMessage decode_batch(std::span<const std::byte> bytes) {
  Reader r(bytes);
  if (r.get<MessageKind>() != MessageKind::Batch) fail("expected a batch message");
  BatchMessage m;
  m.batch_id = r.get<uint64_t>();
  m.positions = r.get_vec<int32_t>();
  m.slots = r.get_vec<int32_t>();
  m.logit_rows = r.get_vec<int32_t>();
  m.samples = r.get_vec<SampleSpec>();
  m.targets = r.get_vec<int32_t>();
  const auto type_code = r.get<uint32_t>();
  const auto hidden_type = DType(type_code);
  if (type_code == kHiddenOnDevice) {
    m.hidden_on_device = true;
  } else if (hidden_type == DType::F32) {
    m.hidden = r.get_vec<float>();
  } else if (hidden_type == DType::F16 || hidden_type == DType::BF16) {
    const auto half = r.get_vec<uint16_t>();
    m.hidden.resize(half.size());
    for (size_t i = 0; i < half.size(); ++i)
      m.hidden[i] = hidden_type == DType::F16 ? f16_to_f32(half[i]) : bf16_to_f32(half[i]);
  } else if (hidden_type == DType::Q8_0) {
    const auto n = r.get<uint64_t>();
    const auto q = r.get_vec<uint8_t>();
    if (n % kQK != 0 || q.size() != dtype_row_bytes(DType::Q8_0, int64_t(n)))
      fail("malformed batch message: ", q.size(), " bytes of q8_0 activations for ", n, " values");
    m.hidden.resize(n);
    cpu::dequantize_row_f32(DType::Q8_0, q.data(), m.hidden.data(), int64_t(n));
  } else {
    fail("malformed batch message: activation type ", uint32_t(hidden_type));
  }
  // Every logit row is either sampled or scored, never both.
  const bool sampled = m.samples.size() == m.logit_rows.size() && m.targets.empty();
  const bool scored = m.targets.size() == m.logit_rows.size() && m.samples.empty();
  if (m.slots.size() != m.positions.size() || !(sampled || scored))
    fail("malformed batch message: inconsistent sizes");
  return m;
}

TokensMessage decode_tokens(std::span<const std::byte> bytes) {
  Reader r(bytes);
  if (r.get<MessageKind>() != MessageKind::Tokens) fail("expected a tokens message");
  TokensMessage m;
  m.batch_id = r.get<uint64_t>();
  m.tokens = r.get_vec<int32_t>();
  m.nll = r.get_vec<double>();
  return m;
}

}  // namespace llmpipe
