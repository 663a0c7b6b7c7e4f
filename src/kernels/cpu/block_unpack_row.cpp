// unpack_row_codes (block_decode.h): a row in the kernels' unpacked form (block_unpack.h), so tests
// can check the per-type unpack against the decode and bound the kernels' rounding.
#include "core/error.h"
#include "kernels/cpu/block_decode.h"
#include "kernels/cpu/block_unpack.h"

namespace llmpipe::cpu {

namespace {

template <typename Block>
void unpack_row_as(const void* src, int64_t k, uint8_t* codes, float* d16, float* m16) {
  const int64_t nb = k / Unpack<Block>::kElems;
  const int64_t groups = (nb + kBlocksPerGroup<Block> - 1) / kBlocksPerGroup<Block>;
  UnpackedGroup g;
  for (int64_t i = 0; i < groups; ++i) {
    unpack_group<Block>(static_cast<const uint8_t*>(src), nb, i, g);
    std::memcpy(codes + i * kGroup, g.codes, kGroup);
    std::memcpy(d16 + i * kGroupSubs, g.d, sizeof g.d);
    std::memcpy(m16 + i * kGroupSubs, g.m, sizeof g.m);
  }
}

}  // namespace

void unpack_row_codes(DType type, const void* src, int64_t k, uint8_t* codes, float* d16,
                      float* m16) {
  const int64_t bs = dtype_block_size(type);
  LLMPIPE_CHECK(k >= 0 && k % bs == 0, "unpack ", dtype_name(type), ": a row of ", k,
                " elements is not whole blocks of ", bs);
  switch (type) {
    case DType::Q4_1: return unpack_row_as<BlockQ4_1>(src, k, codes, d16, m16);
    case DType::Q5_0: return unpack_row_as<BlockQ5_0>(src, k, codes, d16, m16);
    case DType::Q5_1: return unpack_row_as<BlockQ5_1>(src, k, codes, d16, m16);
    case DType::Q2_K: return unpack_row_as<BlockQ2_K>(src, k, codes, d16, m16);
    case DType::Q3_K: return unpack_row_as<BlockQ3_K>(src, k, codes, d16, m16);
    case DType::Q4_K: return unpack_row_as<BlockQ4_K>(src, k, codes, d16, m16);
    case DType::Q5_K: return unpack_row_as<BlockQ5_K>(src, k, codes, d16, m16);
    case DType::Q6_K: return unpack_row_as<BlockQ6_K>(src, k, codes, d16, m16);
    case DType::IQ4_NL: return unpack_row_as<BlockIQ4_NL>(src, k, codes, d16, m16);
    case DType::IQ4_XS: return unpack_row_as<BlockIQ4_XS>(src, k, codes, d16, m16);
    default: fail("unpack: ", dtype_name(type), " is not a block-decoded type");
  }
}

}  // namespace llmpipe::cpu
