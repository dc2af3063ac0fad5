// Single-precision GEMM: the public entry point, the variant registry, and the contract every
// variant implements.
//
//   C = alpha * op(A) * op(B) + beta * C
//
// Layout: row-major. op(A) is m x k, op(B) is k x n, C is m x n. Leading dimensions are in
// elements and count the stored row length: A is stored m x k (lda >= k) when not transposed and
// k x m (lda >= m) when transposed; likewise B is k x n (ldb >= n) or n x k (ldb >= k); ldc >= n.
// A leading dimension must also be >= 1. No alignment is required.
//
// Semantics follow the reference BLAS: m, n or k of 0 is legal; when k == 0 or alpha == 0, A and B
// are not read and C becomes beta * C; when beta == 0, C is overwritten without being read, so NaN
// or garbage in C does not propagate. Pointers may be null only when nothing is read through them.
//
// Error bound (docs/design.md): every variant's result satisfies, elementwise,
//   |c - ref| <= K * 2^-23 * |alpha| * (|A||B|)_ij + 4 * 2^-24 * (|ref| + |beta * c0|)
// against an fp64 reference; kernels/testing/gemm_reference.h holds the check.
//
// `Sgemm` validates its arguments (InvalidArgument naming the argument) and then picks a variant
// by ISA and shape; `SgemmVariant` runs one named variant of the registry, for sweeps and tests.
// The variants themselves are noexcept leaves that only assert their preconditions.
#ifndef KLAB_KERNELS_GEMM_GEMM_H_
#define KLAB_KERNELS_GEMM_GEMM_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "kernels/cpu/cpu.h"
#include "kernels/tuning/tuning.h"

namespace klab::kernels {

enum class Trans { kNo, kYes };

// One GEMM problem, exactly the arguments of Sgemm. Variants take it by reference.
struct SgemmArgs {
  Trans trans_a = Trans::kNo;
  Trans trans_b = Trans::kNo;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int64_t lda = 0;
  const float* b = nullptr;
  int64_t ldb = 0;
  float beta = 0.0f;
  float* c = nullptr;
  int64_t ldc = 0;
};

// A variant computes the whole problem. It may assume ValidateSgemmArgs(args).ok().
using SgemmFn = void (*)(const SgemmArgs& args) noexcept;

// One entry of the registry: plain data (docs/style.md rule 4). `mr` x `nr` is the register tile of a
// micro-kernel variant (1 x 1 for loop-nest variants); `max_threads` is 1 for serial variants.
struct GemmVariant {
  std::string_view name;
  Isa isa;
  SgemmFn fn;
  // The register tile of C (rows x columns; 1 x 1 for loops without one). The edge tests derive
  // their cases from it: every m mod mr, n around nr and around wide_nr.
  int mr = 1;
  int nr = 1;
  // The widest column tile the variant uses when wider than nr (smallm's axpy kernels run 128,
  // 64 or 32 columns at a time by row count); nr otherwise.
  int wide_nr = 1;
  // Whether it follows the cache blocking (MC, KC, NC of gemm_config.h): the packed variants.
  bool blocked = false;
  int max_threads = 1;
  std::string_view idea;  // one line for tables and the lab README
};

// Every registered variant, in ladder order (slowest idea first), whatever the CPU supports.
absl::Span<const GemmVariant> GemmVariants();

// The variant called `name`, or nullptr.
const GemmVariant* FindGemmVariant(std::string_view name);

// The shape class of a call: the key of a tuning profile's GEMM choices (kernels/tuning/tuning.h).
// "<layout>/<m>/<n>/<k>": layout NN, NT, TN or TT (A, then B, as stored: N row-major, T
// transposed); m one of m1, m2-16, m17-64, m65+; n and k each one of 128, 256, 512, 1024 (at most
// that) or big: "NT/m2-16/n128/k512". n and k apart: at M = 8 a layer with K = 128 and N = 384
// wants the packed kernel and one with K = 512, N = 128 the unpacked one (amd-zen4-2c, 0.84x when
// one class held both).
std::string GemmShapeClass(const SgemmArgs& args);
// Whether `name` is a class GemmShapeClass gives for some call.
bool IsGemmShapeClass(const std::string& name);

// OK when every class of `profile` is one GemmShapeClass gives, every choice names a registered
// variant this CPU runs, and no serial choice uses the thread pool; InvalidArgument naming the
// class and variant otherwise.
absl::Status ValidateGemmTuning(const TuningProfile& profile);

// The variant Sgemm would choose for this problem on this CPU.
const GemmVariant& ChooseGemmVariant(const SgemmArgs& args);
// The variant Sgemm would choose with a pool of one thread: for callers that run many small
// GEMMs on the pool's threads themselves (it never uses the pool, so it may run on a worker).
// Its results are the same bits as ChooseGemmVariant's (the threaded variants' are, by test).
const GemmVariant& ChooseSerialGemmVariant(const SgemmArgs& args);

// Checks shapes, leading dimensions and pointers; InvalidArgument names the first bad argument.
absl::Status ValidateSgemmArgs(const SgemmArgs& args);

absl::Status Sgemm(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                   int64_t ldc);

// Runs the registered variant `name`: NotFound for an unknown name, FailedPrecondition when the
// CPU lacks its ISA, InvalidArgument for bad arguments.
absl::Status SgemmVariant(std::string_view name, const SgemmArgs& args);

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_GEMM_GEMM_H_
