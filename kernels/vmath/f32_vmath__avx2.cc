// vmath for AVX2 + FMA (8 lanes).
#define KLAB_VEC VecAvx2
#define KLAB_VMATH_TABLE kVmathAvx2
#define KLAB_VMATH_NAME "f32_vmath__avx2"
#define KLAB_VMATH_ISA Isa::kAvx2
#include "kernels/vmath/f32_vmath_isa.inc"
