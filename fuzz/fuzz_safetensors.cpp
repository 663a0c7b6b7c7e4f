// libFuzzer: a whole .safetensors file (8-byte header length, JSON header, data).
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/hf/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > size - 8) return 0;
  try {
    llmpipe::hf::parse_safetensors_header({data + 8, size_t(n)}, 8 + n, size - 8 - n, "fuzz");
  } catch (const llmpipe::Error&) {
  }
  return 0;
}
