#include "kernels/gemm/gemm.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/gemm/gemm_internal.h"

namespace klab::kernels {
namespace {

absl::Status CheckLeadingDimension(const char* name, int64_t ld, int64_t row_length,
                                   const char* why) {
  const int64_t need = std::max<int64_t>(row_length, 1);
  if (ld < need) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Sgemm: %s (%d) must be >= %d (%s)", name, ld, need, why));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateSgemmArgs(const SgemmArgs& p) {
  if (p.m < 0) return absl::InvalidArgumentError(absl::StrFormat("Sgemm: m (%d) is negative", p.m));
  if (p.n < 0) return absl::InvalidArgumentError(absl::StrFormat("Sgemm: n (%d) is negative", p.n));
  if (p.k < 0) return absl::InvalidArgumentError(absl::StrFormat("Sgemm: k (%d) is negative", p.k));

  const bool a_no = p.trans_a == Trans::kNo;
  const bool b_no = p.trans_b == Trans::kNo;
  absl::Status s = CheckLeadingDimension("lda", p.lda, a_no ? p.k : p.m,
                                         a_no ? "k: A is stored m x k" : "m: A is stored k x m");
  if (!s.ok()) return s;
  s = CheckLeadingDimension("ldb", p.ldb, b_no ? p.n : p.k,
                            b_no ? "n: B is stored k x n" : "k: B is stored n x k");
  if (!s.ok()) return s;
  s = CheckLeadingDimension("ldc", p.ldc, p.n, "n: C is stored m x n");
  if (!s.ok()) return s;

  // A and B are read only when there is a product to form; C whenever it is non-empty.
  const bool reads_ab = p.m > 0 && p.n > 0 && p.k > 0 && p.alpha != 0.0f;
  if (reads_ab && p.a == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Sgemm: a is null but op(A) is %d x %d", p.m, p.k));
  }
  if (reads_ab && p.b == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Sgemm: b is null but op(B) is %d x %d", p.k, p.n));
  }
  if (p.m > 0 && p.n > 0 && p.c == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Sgemm: c is null but C is %d x %d", p.m, p.n));
  }
  return absl::OkStatus();
}

const GemmVariant* FindGemmVariant(std::string_view name) {
  for (const GemmVariant& v : GemmVariants()) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

// With a tuning profile in force (kernels/tuning/tuning.h), its choice for the call's shape class
// wins; otherwise, or for a class it does not name, the analytic defaults below.
// The analytic defaults (measured on the machine the lab was built on, interleaved against the peers; see
// lab/gemm/README.md):
//   AVX-512:  2 <= m <= 16, B transposed, k <= 128
//                                                -> packed_8x32__avx512 (packed_mt_8x32 on the
//                                                   pool from 2mnk >= 2^19): a short dot product
//                                                   per output leaves smallm's dot form at
//                                                   0.84-0.85x of it (M = 8, K = 128, N = 256-512,
//                                                   amd-zen4-2c; both tunes chose packed there)
//             m <= 16                            -> smallm__avx512: no packing, B streamed once
//                                                   (smallm_mt__avx512, columns split, when the
//                                                   pool has > 1 thread and 2mnk >= 2^18)
//             pool threads > 1, 2mnk >= 2^19 (n = 64 and up; 2 threads measured 178-186 GFLOP/s
//             against 151-162 on one at n = 64, and no gain at 48, in two runs):
//               A transposed, B row-major, max(m, n, k) <= 1024
//                                                -> regblock_mt_8x32__avx512 (regblock's family,
//                                                   as on one thread below: 1.01-1.45x
//                                                   packed_mt on the dW shapes of
//                                                   --shapes=backward, amd-zen4-2c)
//               A and B row-major, max(m, n, k) <= 512
//                                                -> smallm_mt__avx512 (315 vs 228 GFLOP/s at 256)
//               otherwise                        -> packed_mt_8x32__avx512
//             A transposed, B row-major, max(m, n, k) <= 1024
//                                                -> regblock_8x32__avx512: A^T's rows are the
//                                                   8 contiguous values each k step broadcasts, so
//                                                   it streams A and B in place at 110-117 GFLOP/s
//                                                   where smallm (which copies A) gave 69-88 and
//                                                   packed_8x32 101-110 (m, n, k from 32 to 1024,
//                                                   Zen 4; matmul backward's dB = A^T dC)
//             A and B row-major, max(m, n, k) <= 512
//                                                -> smallm__avx512 (its axpy form is the regblock
//                                                   step with edge tiles): packing costs more than
//                                                   it saves while B fits in L2 (169 vs 154
//                                                   GFLOP/s at n = 256, 163 vs 151 at 512)
//             otherwise                          -> packed_8x32__avx512
//   AVX2:     B row-major, max(m, n, k) <= 384   -> regblock_6x16__avx2, else packed_6x16__avx2
//   neither:                                     -> loop_ikj
namespace {
// Shape classes by number: layout (4) x m bucket (4) x n bucket (5) x k bucket (5).
constexpr int kClassCount = 4 * 4 * 5 * 5;
constexpr const char* kLayouts[] = {"NN", "NT", "TN", "TT"};
constexpr const char* kMs[] = {"m1", "m2-16", "m17-64", "m65+"};
constexpr const char* kSizes[] = {"128", "256", "512", "1024", "big"};

int Bucket(int64_t x) { return x <= 128 ? 0 : x <= 256 ? 1 : x <= 512 ? 2 : x <= 1024 ? 3 : 4; }

int ClassIndex(const SgemmArgs& p) {
  const int layout = (p.trans_a == Trans::kYes ? 2 : 0) + (p.trans_b == Trans::kYes ? 1 : 0);
  const int m = p.m <= 1 ? 0 : p.m <= 16 ? 1 : p.m <= 64 ? 2 : 3;
  return ((layout * 4 + m) * 5 + Bucket(p.n)) * 5 + Bucket(p.k);
}

std::string ClassName(int index) {
  return absl::StrFormat("%s/%s/n%s/k%s", kLayouts[index / 100], kMs[index / 25 % 4],
                         kSizes[index / 5 % 5], kSizes[index % 5]);
}
}  // namespace

std::string GemmShapeClass(const SgemmArgs& p) { return ClassName(ClassIndex(p)); }

bool IsGemmShapeClass(const std::string& name) {
  static const std::set<std::string>* const all = [] {
    auto* s = new std::set<std::string>;
    for (int i = 0; i < kClassCount; ++i) s->insert(ClassName(i));
    return s;
  }();
  return all->count(name) != 0;
}

absl::Status ValidateGemmTuning(const TuningProfile& profile) {
  for (const auto& [shape_class, choice] : profile.gemm) {
    if (!IsGemmShapeClass(shape_class)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: gemm.%s is not a shape class (\"<NN|NT|TN|TT>/<m1|m2-16|m17-64|m65+>/n<128|256|512|"
          "1024|big>/k<...>\"): a profile from an older build; run //perf:tune again",
          profile.source, shape_class));
    }
    for (const auto& [role, name] : {std::pair<const char*, const std::string&>{"serial", choice.serial},
                                     {"threaded", choice.threaded}}) {
      const GemmVariant* v = FindGemmVariant(name);
      if (v == nullptr || !CpuSupports(v->isa) ||
          (std::string_view(role) == "serial" && v->max_threads > 1)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: gemm.%s.%s = \"%s\" is %s", profile.source, shape_class, role, name,
            v == nullptr ? "not a registered GEMM variant"
            : !CpuSupports(v->isa) ? "not supported by this CPU"
                                   : "a threaded variant, and a serial call must not use the pool"));
      }
    }
  }
  return absl::OkStatus();
}

namespace {
const GemmVariant& Choose(const SgemmArgs& p, bool threaded);

// The profile's choices resolved to variants, one slot per class (null: the analytic rule), so
// that a call's lookup is an index, not a string (a tuned M = 1 GEMM takes about a microsecond).
struct ClassTable {
  uint64_t generation = 0;
  std::array<const GemmVariant*, kClassCount> serial{}, threaded{};
};

// The table for the profile in force, rebuilt when a test changes the profile (tables are never
// freed: a concurrent caller may still read the one it found). The profile is validated when its
// table is built: a user's (KLAB_TUNING) that names a variant this build or CPU lacks ends the
// process with a message; a compiled-in one that does (the CPU's model matched but its ISA is
// hidden, as under valgrind, which hides AVX-512) is set aside for the analytic defaults; a test's
// keeps the entries that pass the rules.
const ClassTable& Table() {
  static std::atomic<const ClassTable*> current{nullptr};
  static std::mutex mu;
  static auto* const all = new std::vector<std::unique_ptr<ClassTable>>;  // every table built
  const uint64_t generation = TuningGeneration();
  const ClassTable* t = current.load(std::memory_order_acquire);
  if (t != nullptr && t->generation == generation) return *t;
  std::lock_guard<std::mutex> lock(mu);
  t = current.load(std::memory_order_acquire);
  if (t != nullptr && t->generation == generation) return *t;
  all->push_back(std::make_unique<ClassTable>());
  ClassTable* table = all->back().get();
  table->generation = generation;
  const TuningProfile* profile = ActiveTuning();
  const absl::Status valid = profile != nullptr ? ValidateGemmTuning(*profile) : absl::OkStatus();
  if (!valid.ok() && profile->source.rfind("KLAB_TUNING=", 0) == 0) {
    std::fprintf(stderr, "kernel-lab: %s\n", std::string(valid.message()).c_str());
    std::exit(2);
  }
  const bool set_aside = !valid.ok() && profile->source.find("(compiled in)") != std::string::npos;
  if (profile != nullptr && !set_aside) {
    for (int i = 0; i < kClassCount; ++i) {
      auto it = profile->gemm.find(ClassName(i));
      if (it == profile->gemm.end()) continue;
      const GemmVariant* serial = FindGemmVariant(it->second.serial);
      const GemmVariant* threaded = FindGemmVariant(it->second.threaded);
      if (serial != nullptr && CpuSupports(serial->isa) && serial->max_threads == 1) table->serial[i] = serial;
      if (threaded != nullptr && CpuSupports(threaded->isa)) table->threaded[i] = threaded;
    }
  }
  current.store(table, std::memory_order_release);
  return *table;
}

const GemmVariant* Tuned(const SgemmArgs& p, bool threaded) {
  const ClassTable& table = Table();
  const int i = ClassIndex(p);
  return threaded ? table.threaded[i] : table.serial[i];
}
}  // namespace

const GemmVariant& ChooseGemmVariant(const SgemmArgs& p) {
  return Choose(p, GemmThreadPool().threads() > 1);
}

const GemmVariant& ChooseSerialGemmVariant(const SgemmArgs& p) { return Choose(p, false); }

namespace {
const GemmVariant& Choose(const SgemmArgs& p, bool threaded) {
  if (const GemmVariant* tuned = Tuned(p, threaded)) return *tuned;
  static const GemmVariant* const smallm = FindGemmVariant("smallm__avx512");
  static const GemmVariant* const smallm_mt = FindGemmVariant("smallm_mt__avx512");
  static const GemmVariant* const packed_mt = FindGemmVariant("packed_mt_8x32__avx512");
  static const GemmVariant* const packed512 = FindGemmVariant("packed_8x32__avx512");
  static const GemmVariant* const regblock512 = FindGemmVariant("regblock_8x32__avx512");
  static const GemmVariant* const regblock_mt = FindGemmVariant("regblock_mt_8x32__avx512");
  static const GemmVariant* const regblock2 = FindGemmVariant("regblock_6x16__avx2");
  static const GemmVariant* const packed2 = FindGemmVariant("packed_6x16__avx2");
  static const GemmVariant* const loop = FindGemmVariant("loop_ikj");
  const int64_t largest = std::max({p.m, p.n, p.k});
  const bool row_major_b = p.trans_b == Trans::kNo;
  if (CpuSupports(Isa::kAvx512)) {
    const double flops = 2.0 * p.m * p.n * p.k;
    if (p.m <= 16) {
      if (p.m > 1 && !row_major_b && p.k <= 128) return threaded && flops >= 524288.0 ? *packed_mt : *packed512;
      return threaded && flops >= 262144.0 ? *smallm_mt : *smallm;
    }
    const bool row_major_a = p.trans_a == Trans::kNo;
    const bool a_transposed_fits = !row_major_a && row_major_b && largest <= 1024;
    if (threaded && flops >= 524288.0) {
      if (a_transposed_fits) return *regblock_mt;
      return row_major_a && row_major_b && largest <= 512 ? *smallm_mt : *packed_mt;
    }
    if (a_transposed_fits) return *regblock512;
    return row_major_b && largest <= 512 ? *smallm : *packed512;
  }
  if (CpuSupports(Isa::kAvx2)) return row_major_b && largest <= 384 ? *regblock2 : *packed2;
  return *loop;
}
}  // namespace

absl::Status Sgemm(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                   int64_t ldc) {
  const SgemmArgs args{trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc};
  absl::Status s = ValidateSgemmArgs(args);
  if (!s.ok()) return s;
  if (m == 0 || n == 0) return absl::OkStatus();
  ChooseGemmVariant(args).fn(args);
  return absl::OkStatus();
}

absl::Status SgemmVariant(std::string_view name, const SgemmArgs& args) {
  const GemmVariant* v = FindGemmVariant(name);
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrFormat("Sgemm: no variant named '%s'", name));
  }
  if (!CpuSupports(v->isa)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "Sgemm: variant '%s' needs %s, which this CPU lacks", name, IsaName(v->isa)));
  }
  absl::Status s = ValidateSgemmArgs(args);
  if (!s.ok()) return s;
  if (args.m == 0 || args.n == 0) return absl::OkStatus();
  v->fn(args);
  return absl::OkStatus();
}

}  // namespace klab::kernels
