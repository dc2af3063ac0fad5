// Linear layers for inference, y = x W^T + b, with W packed once when a model is created: the
// decode path of a transformer is a chain of small GEMVs whose weights stay put, so their layout
// is chosen for streaming, and the call does no validation, no dispatch by shape, no packing.
// A registry of variants (scalar, AVX2, AVX-512) with run-time dispatch.
//
// Packed layout: W is n x k (a linear layer's (out, in), row-major, row stride ldw). Panel p
// holds outputs [16p, 16p + 16), rows past n zero; groups of four panels (64 outputs; the last
// group may have fewer) are stored one after another, each as k rows of (its panels x 16)
// floats: for each l < k, the values W[j][l] of the group's outputs j in order. The kernels
// read one group at a time, front to back as a single stream, with one broadcast of x[l]
// feeding four FMAs, accumulators in registers and no horizontal reductions (the dot-product
// form of a GEMV on unpacked W needs one per output).
//
// linear: y[r, 0:n) = x[r, 0:k) W^T (+ bias) (+ y[r, 0:n) when accumulate), for rows r < m,
// row strides ldx, ldy (elements, >= k and >= n); bias may be null. Rows are taken four at a
// time (AVX-512; two on AVX2) so that, for a prompt, each panel is read once per four rows.
// `linear_panels` computes only the outputs of panels [p0, p1), where p0 is a multiple of
// kLinearGroup and p1 a multiple of it or the last panel (threads split the groups).
// Contract: packed from PackLinearWeights, 64-byte aligned; x and y must not overlap.
// Error: each output is a k-term dot product accumulated in float in an order that depends on
// the variant and on the rows per pass (two interleaved partial sums at M = 1 on AVX-512), but
// not on the panels a call covers, so threads give bitwise the same result; then
// y = dot + (y + bias). The GEMM bound of docs/design.md holds with C0 = y + bias and beta = 1:
// |y - ref| <= k 2^-23 (|x||W|) + 4 2^-24 (|ref| + |C0|) elementwise.
#ifndef KLAB_KERNELS_LINEAR_LINEAR_H_
#define KLAB_KERNELS_LINEAR_LINEAR_H_

#include <cstddef>
#include <string_view>

#include "absl/types/span.h"
#include "kernels/cpu/cpu.h"

namespace klab::kernels {

constexpr size_t kLinearPanel = 16;
constexpr size_t kLinearGroup = 4;  // panels per group

// Floats of the packed form of an n x k weight matrix.
constexpr size_t PackedLinearSize(size_t n, size_t k) {
  return (n + kLinearPanel - 1) / kLinearPanel * kLinearPanel * k;
}

// Packs W (n x k, row stride ldw) into `packed` (PackedLinearSize(n, k) floats).
void PackLinearWeights(size_t n, size_t k, const float* w, size_t ldw, float* packed) noexcept;

using LinearPanelsFn = void (*)(size_t m, size_t n, size_t k, const float* x, size_t ldx,
                                const float* packed, const float* bias, float* y, size_t ldy,
                                bool accumulate, size_t p0, size_t p1) noexcept;

struct LinearKernels {
  std::string_view name;
  Isa isa;
  LinearPanelsFn linear_panels;
};

absl::Span<const LinearKernels> LinearVariants();
const LinearKernels& BestLinear();

// All panels, on the calling thread, with the best variant.
void Linear(size_t m, size_t n, size_t k, const float* x, size_t ldx, const float* packed,
            const float* bias, float* y, size_t ldy, bool accumulate) noexcept;

// The same, panels split over the GEMM thread pool (kernels/gemm/gemm_config.h) when it has
// more than one thread and the layer is large enough to pay for the fork-join (m n k >= 2^16).
void LinearThreaded(size_t m, size_t n, size_t k, const float* x, size_t ldx,
                    const float* packed, const float* bias, float* y, size_t ldy,
                    bool accumulate) noexcept;

// The read ceiling of LinearThreaded(m, n, k, ..., packed, ...): reads exactly the packed bytes
// that call would, split over the pool exactly as it would split them (or on the calling thread
// where it would not split), and only sums them (kernels/peak's ReadF32). The bandwidth a layer
// can reach, in the cache state the layer itself leaves; the sum is returned so that nothing is
// optimised away.
float LinearReadThreaded(size_t m, size_t n, size_t k, const float* packed) noexcept;

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_LINEAR_LINEAR_H_
