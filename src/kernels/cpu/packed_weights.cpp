#include "kernels/cpu/packed_weights.h"

#include <cstring>

#include "core/quant_blocks.h"

namespace llmpipe::cpu {

namespace {
// 4-byte units per row and block: the block's code bytes / 4.
int units(DType dtype) { return dtype == DType::Q4_0 ? 4 : 8; }
size_t src_block_bytes(DType dtype) { return dtype == DType::Q4_0 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0); }
uint8_t stored(DType dtype, uint8_t code) { return dtype == DType::Q8_0 ? uint8_t(code ^ 0x80) : code; }
}  // namespace

bool packed_float(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

int packed_code_offset(DType dtype) {
  switch (dtype) {
    case DType::Q4_0: return 8;
    case DType::Q4_K: return 1;
    case DType::Q6_K: return 32;
    case DType::Q5_0: return 16;
    default: return 128;
  }
}

int packed_sums_per_block(DType dtype) { return dtype == DType::Q6_K ? 2 : 1; }

size_t packed_block_bytes(DType dtype) {
  if (dtype == DType::Q4_K) return size_t(kPackRows) * (2 * sizeof(uint16_t) + 16 + 8 * 16);
  if (dtype == DType::Q6_K) return size_t(kPackRows) * sizeof(BlockQ6_K);
  if (dtype == DType::Q5_0) return size_t(kPackRows) * sizeof(BlockQ5_0);
  return size_t(kPackRows) * (sizeof(uint16_t) + 4 * size_t(units(dtype)));
}

size_t packed_bytes(DType dtype, int64_t rows, int64_t cols) {
  const int64_t groups = (rows + kPackRows - 1) / kPackRows;
  if (packed_float(dtype))
    return size_t(groups) * size_t(cols) * size_t(kPackRows) * size_t(dtype_block_bytes(dtype));
  return size_t(groups) * size_t(cols / dtype_block_size(dtype)) * packed_block_bytes(dtype);
}

namespace {

// Float layouts: group g holds, for each column i, the 16 rows' elements side by side:
// element (16 g + j, i) at index (g * cols + i) * 16 + j. E: the element's storage type.
template <typename E>
void pack_float_groups(const void* src, int64_t rows, int64_t cols, void* dst, int64_t g0,
                       int64_t g1) {
  constexpr int64_t kBlock = kPackRows;  // columns per step: a 16 x 16 block stays in L1
  for (int64_t g = g0; g < g1; ++g) {
    auto* out = static_cast<uint8_t*>(dst) + size_t(g * cols) * kPackRows * sizeof(E);
    for (int64_t i0 = 0; i0 < cols; i0 += kBlock) {
      const int64_t width = cols - i0 < kBlock ? cols - i0 : kBlock;
      for (int j = 0; j < kPackRows; ++j) {
        const int64_t row = g * kPackRows + j;
        // memcpy of a constant size: plain loads and stores, any alignment of the source (a
        // safetensors tensor may start at any byte).
        const auto* in = static_cast<const uint8_t*>(src) +
                         (row < rows ? size_t(row * cols + i0) * sizeof(E) : 0);
        for (int64_t i = 0; i < width; ++i) {
          E v{};  // padding rows: zeros (0 in every float type)
          if (row < rows) std::memcpy(&v, in + size_t(i) * sizeof(E), sizeof(E));
          std::memcpy(out + (size_t(i0 + i) * kPackRows + size_t(j)) * sizeof(E), &v, sizeof(E));
        }
      }
    }
  }
}

void pack_float_groups(DType dtype, const void* src, int64_t rows, int64_t cols, void* dst,
                       int64_t g0, int64_t g1) {
  if (dtype == DType::F32)
    pack_float_groups<uint32_t>(src, rows, cols, dst, g0, g1);  // the bits, not the value
  else
    pack_float_groups<uint16_t>(src, rows, cols, dst, g0, g1);
}

// Q4_K: the layout in packed_weights.h. Field offsets in a packed super-block:
constexpr size_t kKd = 0, kKdmin = 32, kKsc = 64, kKmn = 64 + 128, kKqs = 64 + 256;

// Sub-block s (32 weights) of a Q4_K super-block as the 16 bytes of a Q4_0 block: byte b holds
// weight b (low nibble) and weight b + 16 (high nibble).
void q4_k_sub_as_q4_0(const BlockQ4_K& blk, int s, uint8_t out[16]) {
  const uint8_t* q = blk.qs + 32 * (s / 2);
  const int shift = 4 * (s % 2);
  for (int b = 0; b < 16; ++b)
    out[b] = uint8_t(((q[b] >> shift) & 0x0f) | ((q[b + 16] >> shift) & 0x0f) << 4);
}

void q4_k_scale_min(const uint8_t* sc, int j, uint8_t& scale, uint8_t& min) {
  scale = uint8_t(j < 4 ? sc[j] & 63 : (sc[j + 4] & 0x0f) | ((sc[j - 4] >> 6) << 4));
  min = uint8_t(j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4));
}

void put_q4_k(uint8_t* out, int j, const BlockQ4_K& blk) {
  std::memcpy(out + kKd + 2 * j, &blk.d, 2);
  std::memcpy(out + kKdmin + 2 * j, &blk.dmin, 2);
  for (int s = 0; s < 8; ++s) {
    q4_k_scale_min(blk.scales, s, out[kKsc + 16 * s + j], out[kKmn + 16 * s + j]);
    uint8_t q[16];
    q4_k_sub_as_q4_0(blk, s, q);
    for (int u = 0; u < 4; ++u)
      for (int i = 0; i < 4; ++i) out[kKqs + 256 * s + (u * kPackRows + j) * 4 + i] = q[4 * u + i];
  }
}

// The 6-bit scales are re-encoded in ggml's 12-byte form, so the row's bytes are the original ones.
void get_q4_k(const uint8_t* in, int j, BlockQ4_K& blk) {
  std::memcpy(&blk.d, in + kKd + 2 * j, 2);
  std::memcpy(&blk.dmin, in + kKdmin + 2 * j, 2);
  for (int s = 0; s < 8; ++s) {
    const uint8_t sc = in[kKsc + 16 * s + j], mn = in[kKmn + 16 * s + j];
    if (s < 4) {
      blk.scales[s] = uint8_t((blk.scales[s] & 0xc0) | sc);
      blk.scales[s + 4] = uint8_t((blk.scales[s + 4] & 0xc0) | mn);
    } else {
      blk.scales[s + 4] = uint8_t((sc & 0x0f) | (mn & 0x0f) << 4);
      blk.scales[s - 4] = uint8_t(blk.scales[s - 4] | (sc >> 4) << 6);
      blk.scales[s] = uint8_t(blk.scales[s] | (mn >> 4) << 6);
    }
    uint8_t q[16];
    for (int u = 0; u < 4; ++u)
      for (int i = 0; i < 4; ++i) q[4 * u + i] = in[kKqs + 256 * s + (u * kPackRows + j) * 4 + i];
    uint8_t* out = blk.qs + 32 * (s / 2);
    const int shift = 4 * (s % 2);
    for (int e = 0; e < 16; ++e) {
      out[e] = uint8_t(out[e] | (q[e] & 0x0f) << shift);
      out[e + 16] = uint8_t(out[e + 16] | (q[e] >> 4) << shift);
    }
  }
}

// Q6_K: the layout in packed_weights.h. Field offsets in a packed super-block:
constexpr size_t k6d = 0, k6sc = 32, k6sub = 32 + 256, k6sub_bytes = 256 + 128;

// Weight e's 6-bit code of a Q6_K super-block: ql holds the low four bits of two halves of 128
// weights (64 bytes each, weights l and l + 64 of a half in one byte), qh the top two bits
// (32 bytes a half, four weights 32 apart per byte).
int q6_k_code(const BlockQ6_K& b, int e) {
  const int half = e / 128, r = e % 128;
  const int low = (b.ql[half * 64 + r % 64] >> (4 * (r / 64))) & 0x0f;
  const int high = (b.qh[half * 32 + r % 32] >> (2 * (r / 32))) & 3;
  return low | high << 4;
}

void put_q6_k(uint8_t* out, int j, const BlockQ6_K& blk) {
  std::memcpy(out + k6d + 2 * j, &blk.d, 2);
  for (int s = 0; s < 16; ++s) out[k6sc + 16 * s + j] = uint8_t(blk.scales[s]);
  for (int t = 0; t < 8; ++t) {
    uint8_t* nib = out + k6sub + k6sub_bytes * size_t(t);
    uint8_t* hb = nib + 256;
    for (int u = 0; u < 4; ++u)
      for (int i = 0; i < 4; ++i) {
        const int lo = q6_k_code(blk, 32 * t + 4 * u + i), hi = q6_k_code(blk, 32 * t + 16 + 4 * u + i);
        nib[size_t(u * kPackRows + j) * 4 + size_t(i)] = uint8_t((lo & 0x0f) | (hi & 0x0f) << 4);
        // Units 2p and 2p + 1 share vector p of top bits: 2 bits each for the unit's low- and
        // high-nibble weight, unit 2p in bits 0-3, unit 2p + 1 in bits 4-7.
        const size_t hat = size_t(u / 2) * 64 + size_t(j) * 4 + size_t(i);
        hb[hat] = uint8_t(hb[hat] | ((lo >> 4) | (hi >> 4) << 2) << (4 * (u % 2)));
      }
  }
}

void get_q6_k(const uint8_t* in, int j, BlockQ6_K& blk) {
  std::memcpy(&blk.d, in + k6d + 2 * j, 2);
  for (int s = 0; s < 16; ++s) blk.scales[s] = int8_t(in[k6sc + 16 * s + j]);
  for (int t = 0; t < 8; ++t) {
    const uint8_t* nib = in + k6sub + k6sub_bytes * size_t(t);
    const uint8_t* hb = nib + 256;
    for (int u = 0; u < 4; ++u)
      for (int i = 0; i < 4; ++i) {
        const uint8_t n = nib[size_t(u * kPackRows + j) * 4 + size_t(i)];
        const int h = hb[size_t(u / 2) * 64 + size_t(j) * 4 + size_t(i)] >> (4 * (u % 2));
        const int codes[2] = {(n & 0x0f) | (h & 3) << 4, (n >> 4) | ((h >> 2) & 3) << 4};
        for (int which = 0; which < 2; ++which) {
          const int e = 32 * t + 16 * which + 4 * u + i, half = e / 128, r = e % 128;
          uint8_t& ql = blk.ql[half * 64 + r % 64];
          uint8_t& qh = blk.qh[half * 32 + r % 32];
          ql = uint8_t(ql | (codes[which] & 0x0f) << (4 * (r / 64)));
          qh = uint8_t(qh | (codes[which] >> 4) << (2 * (r / 32)));
        }
      }
  }
}

// Q5_0: d[16], the low four bits as a packed Q4_0 block's codes, then hb[64]: hb[j * 4 + i]
// holds the fifth bits of row j's weights 4u+i (bit 2u) and 16+4u+i (bit 2u + 1), u < 4.
constexpr size_t k5qs = 32, k5hb = 32 + 256;

void put_q5_0(uint8_t* out, int j, const BlockQ5_0& blk) {
  std::memcpy(out + 2 * j, &blk.d, 2);
  uint32_t qh;
  std::memcpy(&qh, blk.qh, 4);
  for (int u = 0; u < 4; ++u)
    for (int i = 0; i < 4; ++i) {
      out[k5qs + size_t(u * kPackRows + j) * 4 + size_t(i)] = blk.qs[4 * u + i];
      const uint32_t lo = (qh >> (4 * u + i)) & 1, hi = (qh >> (16 + 4 * u + i)) & 1;
      out[k5hb + size_t(j) * 4 + size_t(i)] |= uint8_t((lo | hi << 1) << (2 * u));
    }
}

void get_q5_0(const uint8_t* in, int j, BlockQ5_0& blk) {
  std::memcpy(&blk.d, in + 2 * j, 2);
  uint32_t qh = 0;
  for (int u = 0; u < 4; ++u)
    for (int i = 0; i < 4; ++i) {
      blk.qs[4 * u + i] = in[k5qs + size_t(u * kPackRows + j) * 4 + size_t(i)];
      const uint32_t h = in[k5hb + size_t(j) * 4 + size_t(i)] >> (2 * u);
      qh |= (h & 1) << (4 * u + i) | ((h >> 1) & 1) << (16 + 4 * u + i);
    }
  std::memcpy(blk.qh, &qh, 4);
}

// The loops of the layouts that pack one GGUF block per row into one packed block (Q5_0, Q4_K,
// Q6_K): every block of rows [16 g0, 16 g1) is copied out (blocks of 22 or 210 bytes sit at any
// alignment in a file mapping) and handed to put(out, j, block), out the group's packed block,
// zeroed first so that padding rows stay zero.
template <typename Block>
void pack_blocks(DType dtype, const void* src, int64_t rows, int64_t cols, void* dst, int64_t g0,
                 int64_t g1, void (*put)(uint8_t*, int, const Block&)) {
  const int64_t nb = cols / dtype_block_size(dtype);
  const size_t pb = packed_block_bytes(dtype);
  for (int64_t g = g0; g < g1; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      auto* out = static_cast<uint8_t*>(dst) + size_t(g * nb + b) * pb;
      std::memset(out, 0, pb);
      for (int j = 0; j < kPackRows && g * kPackRows + j < rows; ++j) {
        const int64_t row = g * kPackRows + j;
        Block blk;
        std::memcpy(&blk, static_cast<const uint8_t*>(src) + size_t(row * nb + b) * sizeof blk, sizeof blk);
        put(out, j, blk);
      }
    }
}

// Row `row` of such a layout back to its GGUF blocks, each rebuilt by get(in, j, block).
template <typename Block>
void unpack_blocks(DType dtype, const void* packed, int64_t cols, int64_t row, void* dst,
                   void (*get)(const uint8_t*, int, Block&)) {
  const int64_t nb = cols / dtype_block_size(dtype), g = row / kPackRows;
  const size_t pb = packed_block_bytes(dtype);
  for (int64_t b = 0; b < nb; ++b) {
    Block blk{};
    get(static_cast<const uint8_t*>(packed) + size_t(g * nb + b) * pb, int(row % kPackRows), blk);
    std::memcpy(static_cast<uint8_t*>(dst) + size_t(b) * sizeof blk, &blk, sizeof blk);
  }
}

}  // namespace

void pack_row_groups(DType dtype, const void* src, int64_t rows, int64_t cols, void* dst,
                     int64_t g0, int64_t g1) {
  if (packed_float(dtype)) return pack_float_groups(dtype, src, rows, cols, dst, g0, g1);
  if (dtype == DType::Q5_0) return pack_blocks<BlockQ5_0>(dtype, src, rows, cols, dst, g0, g1, put_q5_0);
  if (dtype == DType::Q4_K) return pack_blocks<BlockQ4_K>(dtype, src, rows, cols, dst, g0, g1, put_q4_k);
  if (dtype == DType::Q6_K) return pack_blocks<BlockQ6_K>(dtype, src, rows, cols, dst, g0, g1, put_q6_k);
  const int64_t nb = cols / kQK;
  const int u_n = units(dtype);
  const size_t sb = src_block_bytes(dtype), pb = packed_block_bytes(dtype);
  // A padding row: zero scale, codes that decode to zero.
  const uint8_t pad = dtype == DType::Q4_0 ? 0x88 : 0x80;
  for (int64_t g = g0; g < g1; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      auto* out = static_cast<uint8_t*>(dst) + size_t(g * nb + b) * pb;
      auto* d = reinterpret_cast<uint16_t*>(out);
      uint8_t* qs = out + kPackRows * sizeof(uint16_t);
      for (int j = 0; j < kPackRows; ++j) {
        const int64_t row = g * kPackRows + j;
        if (row >= rows) {
          d[j] = 0;
          for (int u = 0; u < u_n; ++u) std::memset(qs + (u * kPackRows + j) * 4, pad, 4);
          continue;
        }
        const auto* blk = static_cast<const uint8_t*>(src) + size_t(row * nb + b) * sb;
        std::memcpy(&d[j], blk, sizeof(uint16_t));  // both block types start with the F16 d
        const uint8_t* codes = blk + sizeof(uint16_t);
        for (int u = 0; u < u_n; ++u)
          for (int i = 0; i < 4; ++i) qs[(u * kPackRows + j) * 4 + i] = stored(dtype, codes[4 * u + i]);
      }
    }
  }
}

void unpack_row(DType dtype, const void* packed, int64_t cols, int64_t row, void* dst) {
  if (packed_float(dtype)) {
    const size_t e = size_t(dtype_block_bytes(dtype));
    const int64_t g = row / kPackRows, j = row % kPackRows;
    const auto* in = static_cast<const uint8_t*>(packed) + size_t(g * cols) * kPackRows * e;
    for (int64_t i = 0; i < cols; ++i)
      std::memcpy(static_cast<uint8_t*>(dst) + size_t(i) * e, in + size_t(i * kPackRows + j) * e,
                  e);
    return;
  }
  if (dtype == DType::Q5_0) return unpack_blocks<BlockQ5_0>(dtype, packed, cols, row, dst, get_q5_0);
  if (dtype == DType::Q4_K) return unpack_blocks<BlockQ4_K>(dtype, packed, cols, row, dst, get_q4_k);
  if (dtype == DType::Q6_K) return unpack_blocks<BlockQ6_K>(dtype, packed, cols, row, dst, get_q6_k);
  const int64_t nb = cols / kQK, g = row / kPackRows;
  const int j = int(row % kPackRows), u_n = units(dtype);
  const size_t sb = src_block_bytes(dtype), pb = packed_block_bytes(dtype);
  for (int64_t b = 0; b < nb; ++b) {
    const auto* in = static_cast<const uint8_t*>(packed) + size_t(g * nb + b) * pb;
    auto* blk = static_cast<uint8_t*>(dst) + size_t(b) * sb;
    std::memcpy(blk, in + j * sizeof(uint16_t), sizeof(uint16_t));
    const uint8_t* qs = in + kPackRows * sizeof(uint16_t);
    for (int u = 0; u < u_n; ++u)
      for (int i = 0; i < 4; ++i)
        blk[sizeof(uint16_t) + 4 * u + i] = stored(dtype, qs[(u * kPackRows + j) * 4 + i]);
  }
}

}  // namespace llmpipe::cpu
