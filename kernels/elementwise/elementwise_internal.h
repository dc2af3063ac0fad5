// The per-ISA tables of the elementwise registry, defined in their own translation units.
#ifndef KLAB_KERNELS_ELEMENTWISE_ELEMENTWISE_INTERNAL_H_
#define KLAB_KERNELS_ELEMENTWISE_ELEMENTWISE_INTERNAL_H_

#include "kernels/elementwise/elementwise.h"

namespace klab::kernels::internal {

extern const ElementwiseKernels kElementwiseAvx2;
extern const ElementwiseKernels kElementwiseAvx512;

}  // namespace klab::kernels::internal

#endif  // KLAB_KERNELS_ELEMENTWISE_ELEMENTWISE_INTERNAL_H_
