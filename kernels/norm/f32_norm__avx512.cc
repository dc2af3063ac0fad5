// LayerNorm and RMSNorm for AVX512 (see norm.h).
#define KLAB_VEC VecAvx512
#define KLAB_NORM_TABLE kNormAvx512
#define KLAB_NORM_NAME "f32_norm__avx512"
#define KLAB_NORM_ISA Isa::kAvx512
#include "kernels/norm/f32_norm_isa.inc"
