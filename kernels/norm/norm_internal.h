// The per-ISA tables of the norm registry, defined in their own translation units.
#ifndef KLAB_KERNELS_NORM_NORM_INTERNAL_H_
#define KLAB_KERNELS_NORM_NORM_INTERNAL_H_

#include "kernels/norm/norm.h"

namespace klab::kernels::internal {

extern const NormKernels kNormAvx2;
extern const NormKernels kNormAvx512;

}  // namespace klab::kernels::internal

#endif  // KLAB_KERNELS_NORM_NORM_INTERNAL_H_
