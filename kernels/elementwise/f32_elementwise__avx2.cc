// Elementwise ops for AVX2 (see elementwise.h).
#define KLAB_VEC VecAvx2
#define KLAB_ELEMENTWISE_TABLE kElementwiseAvx2
#define KLAB_ELEMENTWISE_NAME "f32_elementwise__avx2"
#define KLAB_ELEMENTWISE_ISA Isa::kAvx2
#include "kernels/elementwise/f32_elementwise_isa.inc"
