// Which SIMD instruction set the CPU kernels use: detected at run time (the binary runs on any
// x86-64, and builds on other architectures with the portable kernels only), overridable with
// the LLMPIPE_CPU_ISA environment variable or CpuBackendOptions::isa for tests and benchmarks.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace llmpipe::cpu {

// Ordered: a higher level implies every lower one is usable.
//   scalar: the portable reference kernels (the test oracle).
//   avx2:   AVX2 + FMA + F16C (Haswell and later).
//   avx512: AVX-512 F/BW/VL/DQ + VNNI (Ice Lake, Zen 4 and later).
enum class CpuIsa : uint8_t { Scalar, Avx2, Avx512 };

std::string_view cpu_isa_name(CpuIsa isa);
std::optional<CpuIsa> cpu_isa_from_name(std::string_view name);

// The best level this CPU (and OS, for the AVX register state) supports and this build has.
CpuIsa detect_cpu_isa();
bool cpu_isa_supported(CpuIsa isa);
std::vector<CpuIsa> supported_cpu_isas();  // ascending, always starts with Scalar

// The level to use: `requested` if given, else $LLMPIPE_CPU_ISA if set, else the detected one.
// Asking for a level the CPU lacks is an error (a silent fallback would fake benchmark results).
CpuIsa choose_cpu_isa(std::optional<CpuIsa> requested);

}  // namespace llmpipe::cpu
