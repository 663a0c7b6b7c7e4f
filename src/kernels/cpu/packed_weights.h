// Matmul weights repacked for the CPU kernels: rows interleaved in groups of kPackRows, so that
// one SIMD register holds the same weights of 16 rows and a product computes 16 dot products at
// once with no horizontal sums (llama.cpp repacks Q4_0 the same way for the same reason). The
// backend packs at load time (CpuBackend::place_weight); the model never sees the layout: a
// packed TensorView has packed_rows = kPackRows. Rows are padded to whole groups with zeros.
//
// Q4_0 / Q8_0, for k = cols (k % 32 == 0), nb = k / 32 blocks per row: group g is nb packed
// blocks, block b of the group being
//   uint16_t d[16];          F16 scale of row 16g + j, as in the GGUF block
//   uint8_t  qs[16 * 4 * U]; U = 4 (Q4_0) or 8 (Q8_0) units of 4 bytes per row:
//            qs[(u * 16 + j) * 4 + i] = byte 4u + i of row j's block qs (Q8_0: XOR 0x80)
// so that unit u of all 16 rows is one 64-byte vector. Q4_0 unit u holds the weights 4u..4u+3
// (low nibbles) and 16+4u..16+4u+3 (high nibbles), as unsigned codes 0..15 (weight = d * (q-8));
// Q8_0 codes are stored offset by +128 (weight = d * (q - 128)), which makes both types
// unsigned x signed int8 dot products (vpdpbusd) with the offset removed once per block.
//
// Q4_K (k % 256 == 0), per group g and super-block b (packed_block_bytes(Q4_K) bytes):
//   uint16_t d[16], dmin[16];   the 16 rows' F16 super-block scales
//   uint8_t  sc[8][16], mn[8][16];  6-bit scale and min of sub-block s (32 weights), row j
//   uint8_t  qs[8][16 * 4 * 4];  sub-block s of the 16 rows as a packed Q4_0 block's codes:
//            nibbles of weights 4u+i (low) and 16+4u+i (high) at qs[s][(u * 16 + j) * 4 + i]
// so a sub-block multiplies like a Q4_0 block (weight = d sc q - dmin mn, q = 0..15); the
// decoded scales cost 2.8 % more bytes than the GGUF super-blocks.
//
// Q5_0 (k % 32 == 0), per group g and block b (as many bytes as the 16 GGUF blocks): d[16],
// the low four bits as Q4_0's qs[], then hb[64], hb[j * 4 + i] holding the fifth bits of row j's
// weights 4u+i (bit 2u) and 16+4u+i (bit 2u + 1) for u < 4 (weight = d (q - 16)).
//
// Q6_K (k % 256 == 0), per group g and super-block b (as many bytes as the 16 GGUF blocks):
//   uint16_t d[16];             the 16 rows' F16 scales
//   int8_t   sc[16][16];        scale of sub-block s (16 weights), row j
//   then for each 32 weights t: uint8_t nib[256], the low four bits as a packed Q4_0 block's
//   codes, and uint8_t hb[2][64], the top two bits: hb[p][j * 4 + i] holds, for units u = 2p
//   (bits 0-3) and 2p + 1 (bits 4-7), those of weights 4u+i (2 bits) and 16+4u+i (next 2)
// so the 6-bit codes q (weight = d sc (q - 32)) unpack with a few masks and shifts.
//
// F32 / F16 / BF16 (any k): group g is k columns of 16 elements, element (16g + j, i) at index
// (g * k + i) * 16 + j, so column i of the group is one vector (16 F32, or 16 halves widened by
// one instruction). The kernels then accumulate every output in one order, column by column,
// whatever the number of activation rows (results independent of the batch).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace llmpipe::cpu {

inline constexpr int kPackRows = 16;

bool packed_float(DType dtype);  // F32, F16, BF16: the column layout above
// Q4_0 / Q8_0 / Q5_0 / Q4_K / Q6_K only: offset of the stored codes (8 for Q4_0, 128 for Q8_0,
// 16 for Q5_0, 32 for Q6_K; Q4_K: 1, its activation term being dmin * mn * d_x * Σ codes, see quantize_row_q8_packed).
int packed_code_offset(DType dtype);
// Activation sums the packed kernel of `dtype` takes per block of 32 codes (quantize_row_q8_packed's
// s): 2 for Q6_K, whose scales change every 16 weights, else 1.
int packed_sums_per_block(DType dtype);
// Q4_0 / Q8_0 / Q5_0: bytes of one packed block of 16 rows (2 * 16 + the 16 rows' codes); Q4_K, Q6_K:
// of one packed super-block of 16 rows.
size_t packed_block_bytes(DType dtype);
// Bytes of the packed form of a [rows, cols] weight (rows rounded up to 16).
size_t packed_bytes(DType dtype, int64_t rows, int64_t cols);

// Packs row groups [g0, g1) of the row-major weight `src` ([rows, cols], GGUF blocks) into
// `dst` (packed_bytes in all); disjoint group ranges may be packed in parallel.
// Precondition: cols % 32 == 0 for Q4_0 / Q8_0 / Q5_0, cols % 256 == 0 for Q4_K / Q6_K.
void pack_row_groups(DType dtype, const void* src, int64_t rows, int64_t cols, void* dst,
                     int64_t g0, int64_t g1);

// Row `row` of a packed weight back to its GGUF row (the layout tests).
void unpack_row(DType dtype, const void* packed, int64_t cols, int64_t row, void* dst);

}  // namespace llmpipe::cpu
