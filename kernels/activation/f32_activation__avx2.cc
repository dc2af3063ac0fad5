// Activations for AVX2 + FMA (8 lanes).
#define KLAB_VEC VecAvx2
#define KLAB_ACTIVATION_TABLE kActivationAvx2
#define KLAB_ACTIVATION_NAME "f32_activation__avx2"
#define KLAB_ACTIVATION_ISA Isa::kAvx2
#include "kernels/activation/f32_activation_isa.inc"
