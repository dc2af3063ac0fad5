// The per-ISA tables of the softmax registry, defined in their own translation units.
#ifndef KLAB_KERNELS_SOFTMAX_SOFTMAX_INTERNAL_H_
#define KLAB_KERNELS_SOFTMAX_SOFTMAX_INTERNAL_H_

#include "kernels/softmax/softmax.h"

namespace klab::kernels::internal {

extern const SoftmaxKernels kSoftmaxAvx2;
extern const SoftmaxKernels kSoftmaxAvx512;

}  // namespace klab::kernels::internal

#endif  // KLAB_KERNELS_SOFTMAX_SOFTMAX_INTERNAL_H_
