// The per-ISA tables of the vmath registry, defined in their own translation units.
#ifndef KLAB_KERNELS_VMATH_VMATH_INTERNAL_H_
#define KLAB_KERNELS_VMATH_VMATH_INTERNAL_H_

#include "kernels/vmath/vmath.h"

namespace klab::kernels::internal {

extern const VmathKernels kVmathAvx2;
extern const VmathKernels kVmathAvx512;

}  // namespace klab::kernels::internal

#endif  // KLAB_KERNELS_VMATH_VMATH_INTERNAL_H_
