// vmath for AVX-512 (16 lanes; scalef for 2^n, rcp14 + Newton for reciprocals).
#define KLAB_VEC VecAvx512
#define KLAB_VMATH_TABLE kVmathAvx512
#define KLAB_VMATH_NAME "f32_vmath__avx512"
#define KLAB_VMATH_ISA Isa::kAvx512
#include "kernels/vmath/f32_vmath_isa.inc"
