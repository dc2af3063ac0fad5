// The per-ISA tables of the activation registry, defined in their own translation units.
#ifndef KLAB_KERNELS_ACTIVATION_ACTIVATION_INTERNAL_H_
#define KLAB_KERNELS_ACTIVATION_ACTIVATION_INTERNAL_H_

#include "kernels/activation/activation.h"

namespace klab::kernels::internal {

extern const ActivationKernels kActivationAvx2;
extern const ActivationKernels kActivationAvx512;

}  // namespace klab::kernels::internal

#endif  // KLAB_KERNELS_ACTIVATION_ACTIVATION_INTERNAL_H_
