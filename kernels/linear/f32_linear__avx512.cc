// Linear layers on packed weights for AVX512 (see linear.h).
#define KLAB_VEC VecAvx512
#define KLAB_LINEAR_TABLE kLinearAvx512
#define KLAB_LINEAR_NAME "f32_linear__avx512"
#define KLAB_LINEAR_ISA Isa::kAvx512
#include "kernels/linear/f32_linear_isa.inc"
