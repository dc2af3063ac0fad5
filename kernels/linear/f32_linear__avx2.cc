// Linear layers on packed weights for AVX2 (see linear.h).
#define KLAB_VEC VecAvx2
#define KLAB_LINEAR_TABLE kLinearAvx2
#define KLAB_LINEAR_NAME "f32_linear__avx2"
#define KLAB_LINEAR_ISA Isa::kAvx2
#include "kernels/linear/f32_linear_isa.inc"
