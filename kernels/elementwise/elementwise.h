// Streaming elementwise ops on float32 arrays: add, add in place (the residual), scale, and
// broadcast add of a row (bias); a registry of variants (scalar, AVX2, AVX-512) with run-time
// dispatch. They are bound by memory bandwidth, not arithmetic.
//
// Contract: arrays of n floats (or rows x cols with row strides in elements), any alignment; an
// output may equal an input (in place); no other overlap. Every result is the single float
// operation a + b, a * s (correctly rounded, so every variant gives the same bits). noexcept; no
// allocation — the "in-place operations" of the report that started the project saved 98% of
// its allocations; these save all of them.
#ifndef KLAB_KERNELS_ELEMENTWISE_ELEMENTWISE_H_
#define KLAB_KERNELS_ELEMENTWISE_ELEMENTWISE_H_

#include <cstddef>
#include <string_view>

#include "absl/types/span.h"
#include "kernels/cpu/cpu.h"

namespace klab::kernels {

struct ElementwiseKernels {
  std::string_view name;  // f32_elementwise__<isa>
  Isa isa;
  void (*add)(size_t n, const float* a, const float* b, float* y) noexcept;  // y = a + b
  void (*add_inplace)(size_t n, const float* x, float* y) noexcept;         // y += x
  void (*scale)(size_t n, float alpha, const float* x, float* y) noexcept;  // y = alpha x
  // y[r][c] = x[r][c] + bias[c]
  void (*broadcast_add)(size_t rows, size_t cols, const float* x, size_t ldx, const float* bias,
                        float* y, size_t ldy) noexcept;
};

absl::Span<const ElementwiseKernels> ElementwiseVariants();
const ElementwiseKernels& BestElementwise();

void Add(size_t n, const float* a, const float* b, float* y) noexcept;
void AddInPlace(size_t n, const float* x, float* y) noexcept;
void Scale(size_t n, float alpha, const float* x, float* y) noexcept;
void BroadcastAdd(size_t rows, size_t cols, const float* x, size_t ldx, const float* bias,
                  float* y, size_t ldy) noexcept;

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_ELEMENTWISE_ELEMENTWISE_H_
