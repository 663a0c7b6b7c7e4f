#include "kernels/cpu/cpu_isa.h"

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace llmpipe::cpu {

std::string_view cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Scalar: return "scalar";
    case CpuIsa::Avx2: return "avx2";
    case CpuIsa::Avx512: return "avx512";
  }
  return "?";
}

std::optional<CpuIsa> cpu_isa_from_name(std::string_view name) {
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512})
    if (cpu_isa_name(isa) == name) return isa;
  return std::nullopt;
}

CpuIsa detect_cpu_isa() {
#if defined(LLMPIPE_X86_KERNELS)
  // __builtin_cpu_supports also checks (via xgetbv) that the OS saves the wide registers.
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vnni"))
    return CpuIsa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c"))
    return CpuIsa::Avx2;
#endif
  return CpuIsa::Scalar;
}

bool cpu_isa_supported(CpuIsa isa) {
  static const CpuIsa best = detect_cpu_isa();
  return isa <= best;
}

std::vector<CpuIsa> supported_cpu_isas() {
  std::vector<CpuIsa> out;
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512})
    if (cpu_isa_supported(isa)) out.push_back(isa);
  return out;
}

CpuIsa choose_cpu_isa(std::optional<CpuIsa> requested) {
  if (!requested) {
    if (const char* env = std::getenv("LLMPIPE_CPU_ISA"); env && *env) {
      requested = cpu_isa_from_name(env);
      if (!requested) fail("LLMPIPE_CPU_ISA=", env, ": expected scalar, avx2 or avx512");
    }
  }
  if (!requested) return detect_cpu_isa();
  if (!cpu_isa_supported(*requested))
    fail("CPU kernels: ", cpu_isa_name(*requested), " requested but this CPU/build supports at most ",
         cpu_isa_name(detect_cpu_isa()));
  return *requested;
}

}  // namespace llmpipe::cpu
