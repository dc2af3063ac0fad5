// CPU feature and cache detection for run-time kernel dispatch.
//
// Features come from cpuid and xgetbv: an instruction set counts as supported only when the CPU
// reports it *and* the operating system saves the matching register state (XCR0), so AVX-512 on a
// kernel that does not enable ZMM state reads as unsupported. Detection runs once and is cached.
//
// `Isa` names the instruction-set levels that kernels are compiled for. Each level implies the
// ones before it on the machines we target, and `CpuSupports(isa)` checks every feature the level
// needs (kAvx2 = AVX2 + FMA; kAvx512 = AVX-512 F, BW, DQ and VL; kAvx512Bf16 adds AVX512-BF16).
//
// Cache sizes (bytes, per instance as one core sees it) come from the deterministic cache
// parameters leaf (4 on Intel, 0x8000001D on AMD). Under a hypervisor they are what the hypervisor
// reports. Blocking code may take them from here or be handed hwloc's numbers by its caller.
#ifndef KLAB_KERNELS_CPU_CPU_H_
#define KLAB_KERNELS_CPU_CPU_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace klab::kernels {

enum class Isa {
  kScalar,      // the x86-64 baseline the project is compiled for (SSE2)
  kSse42,       // SSE4.2
  kAvx2,        // AVX2 + FMA3
  kAvx512,      // AVX-512 F + BW + DQ + VL
  kAvx512Bf16,  // kAvx512 + AVX512-BF16
};

// All Isa values, lowest first.
inline constexpr Isa kAllIsas[] = {Isa::kScalar, Isa::kSse42, Isa::kAvx2, Isa::kAvx512,
                                   Isa::kAvx512Bf16};

struct CpuFeatures {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", ...
  std::string brand;   // the processor brand string, trimmed
  int family = 0, model = 0, stepping = 0;
  bool hypervisor = false;  // cpuid.1:ecx[31], set by virtual machines

  bool sse42 = false;
  bool avx = false;
  bool fma = false;
  bool avx2 = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512bf16 = false;
  bool os_avx = false;     // XCR0 enables XMM and YMM state
  bool os_avx512 = false;  // XCR0 enables opmask, ZMM_Hi256 and Hi16_ZMM state

  // Data/unified cache sizes in bytes; 0 when cpuid does not say.
  int64_t l1d_bytes = 0;
  int64_t l2_bytes = 0;
  int64_t l3_bytes = 0;
  int cache_line_bytes = 0;
};

// The features of the CPU this process runs on (detected once, then cached).
const CpuFeatures& GetCpuFeatures();

// Whether every feature `isa` needs is present and enabled by the OS.
bool CpuSupports(Isa isa);

// The highest Isa that CpuSupports().
Isa BestIsa();

// The entry of a registry (any range of structs with an `isa` member, lowest ISA first) for the
// best ISA this CPU supports: how every kernel family dispatches. The first entry must be
// runnable everywhere (the scalar variant).
template <class Range>
const auto& BestSupported(const Range& variants) {
  const auto* chosen = &*variants.begin();
  for (const auto& v : variants) {
    if (CpuSupports(v.isa)) chosen = &v;
  }
  return *chosen;
}

// "scalar", "sse4.2", "avx2", "avx512", "avx512bf16".
std::string_view IsaName(Isa isa);

// Names of the individual features present, in /proc/cpuinfo spelling
// ("sse4_2", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16").
std::vector<std::string> CpuFeatureFlags();

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_CPU_CPU_H_
