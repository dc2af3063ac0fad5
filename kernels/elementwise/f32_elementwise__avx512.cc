// Elementwise ops for AVX512 (see elementwise.h).
#define KLAB_VEC VecAvx512
#define KLAB_ELEMENTWISE_TABLE kElementwiseAvx512
#define KLAB_ELEMENTWISE_NAME "f32_elementwise__avx512"
#define KLAB_ELEMENTWISE_ISA Isa::kAvx512
#include "kernels/elementwise/f32_elementwise_isa.inc"
