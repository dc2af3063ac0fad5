#include "kernels/cpu/cpu.h"

#include <cpuid.h>

#include <cstring>

namespace klab::kernels {
namespace {

struct Regs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Regs Cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  Regs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

// XCR0 through xgetbv; only valid when cpuid reports OSXSAVE.
uint64_t Xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool Bit(uint32_t reg, int bit) { return (reg >> bit) & 1u; }

// Walks a deterministic-cache-parameters leaf (4 or 0x8000001D); both share one layout.
void ReadCaches(uint32_t leaf, CpuFeatures& f) {
  for (uint32_t sub = 0; sub < 16; ++sub) {
    const Regs r = Cpuid(leaf, sub);
    const uint32_t type = r.eax & 0x1f;  // 0 none, 1 data, 2 instruction, 3 unified
    if (type == 0) break;
    if (type == 2) continue;
    const int level = (r.eax >> 5) & 0x7;
    const int64_t ways = ((r.ebx >> 22) & 0x3ff) + 1;
    const int64_t partitions = ((r.ebx >> 12) & 0x3ff) + 1;
    const int64_t line = (r.ebx & 0xfff) + 1;
    const int64_t sets = static_cast<int64_t>(r.ecx) + 1;
    const int64_t bytes = ways * partitions * line * sets;
    if (level == 1) {
      f.l1d_bytes = bytes;
      f.cache_line_bytes = static_cast<int>(line);
    } else if (level == 2) {
      f.l2_bytes = bytes;
    } else if (level == 3) {
      f.l3_bytes = bytes;
    }
  }
}

std::string Trim(std::string s) {
  const size_t b = s.find_first_not_of(' ');
  const size_t e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

CpuFeatures Detect() {
  CpuFeatures f;
  const Regs r0 = Cpuid(0);
  const uint32_t max_leaf = r0.eax;
  char vendor[13] = {};
  std::memcpy(vendor + 0, &r0.ebx, 4);
  std::memcpy(vendor + 4, &r0.edx, 4);
  std::memcpy(vendor + 8, &r0.ecx, 4);
  f.vendor = vendor;

  const Regs r1 = Cpuid(1);
  const int base_family = (r1.eax >> 8) & 0xf;
  const int base_model = (r1.eax >> 4) & 0xf;
  f.family = base_family == 0xf ? base_family + ((r1.eax >> 20) & 0xff) : base_family;
  f.model = (base_family == 0x6 || base_family == 0xf)
                ? (((r1.eax >> 16) & 0xf) << 4) + base_model
                : base_model;
  f.stepping = r1.eax & 0xf;
  f.hypervisor = Bit(r1.ecx, 31);
  f.sse42 = Bit(r1.ecx, 20);
  f.fma = Bit(r1.ecx, 12);
  const bool cpu_avx = Bit(r1.ecx, 28);
  const bool osxsave = Bit(r1.ecx, 27);

  const uint64_t xcr0 = osxsave ? Xgetbv0() : 0;
  f.os_avx = (xcr0 & 0x6) == 0x6;             // XMM | YMM
  f.os_avx512 = f.os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask | ZMM_Hi256 | Hi16_ZMM
  f.avx = cpu_avx && f.os_avx;
  f.fma = f.fma && f.os_avx;

  if (max_leaf >= 7) {
    const Regs r7 = Cpuid(7, 0);
    f.avx2 = Bit(r7.ebx, 5) && f.os_avx;
    f.avx512f = Bit(r7.ebx, 16) && f.os_avx512;
    f.avx512dq = Bit(r7.ebx, 17) && f.os_avx512;
    f.avx512bw = Bit(r7.ebx, 30) && f.os_avx512;
    f.avx512vl = Bit(r7.ebx, 31) && f.os_avx512;
    if (r7.eax >= 1) {
      const Regs r71 = Cpuid(7, 1);
      f.avx512bf16 = Bit(r71.eax, 5) && f.os_avx512;
    }
  }

  const uint32_t max_ext = Cpuid(0x80000000).eax;
  if (max_ext >= 0x80000004) {
    char brand[49] = {};
    for (uint32_t i = 0; i < 3; ++i) {
      const Regs r = Cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i + 0, &r.eax, 4);
      std::memcpy(brand + 16 * i + 4, &r.ebx, 4);
      std::memcpy(brand + 16 * i + 8, &r.ecx, 4);
      std::memcpy(brand + 16 * i + 12, &r.edx, 4);
    }
    f.brand = Trim(brand);
  }

  if (f.vendor == "AuthenticAMD" && max_ext >= 0x8000001d && Bit(Cpuid(0x80000001).ecx, 22)) {
    ReadCaches(0x8000001d, f);  // topology extensions
  } else if (max_leaf >= 4) {
    ReadCaches(4, f);
  }
  return f;
}

}  // namespace

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

bool CpuSupports(Isa isa) {
  const CpuFeatures& f = GetCpuFeatures();
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kSse42:
      return f.sse42;
    case Isa::kAvx2:
      return f.avx2 && f.fma;
    case Isa::kAvx512:
      return f.avx2 && f.fma && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl;
    case Isa::kAvx512Bf16:
      return CpuSupports(Isa::kAvx512) && f.avx512bf16;
  }
  return false;
}

Isa BestIsa() {
  Isa best = Isa::kScalar;
  for (Isa isa : kAllIsas) {
    if (CpuSupports(isa)) best = isa;
  }
  return best;
}

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kSse42:
      return "sse4.2";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx512Bf16:
      return "avx512bf16";
  }
  return "unknown";
}

std::vector<std::string> CpuFeatureFlags() {
  const CpuFeatures& f = GetCpuFeatures();
  std::vector<std::string> out;
  const std::pair<bool, const char*> flags[] = {
      {f.sse42, "sse4_2"},       {f.avx, "avx"},           {f.fma, "fma"},
      {f.avx2, "avx2"},          {f.avx512f, "avx512f"},   {f.avx512bw, "avx512bw"},
      {f.avx512dq, "avx512dq"},  {f.avx512vl, "avx512vl"}, {f.avx512bf16, "avx512_bf16"},
  };
  for (const auto& [present, name] : flags) {
    if (present) out.emplace_back(name);
  }
  return out;
}

}  // namespace klab::kernels
