// Activations for AVX-512 (16 lanes).
#define KLAB_VEC VecAvx512
#define KLAB_ACTIVATION_TABLE kActivationAvx512
#define KLAB_ACTIVATION_NAME "f32_activation__avx512"
#define KLAB_ACTIVATION_ISA Isa::kAvx512
#include "kernels/activation/f32_activation_isa.inc"
