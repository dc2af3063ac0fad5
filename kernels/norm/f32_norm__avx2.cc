// LayerNorm and RMSNorm for AVX2 (see norm.h).
#define KLAB_VEC VecAvx2
#define KLAB_NORM_TABLE kNormAvx2
#define KLAB_NORM_NAME "f32_norm__avx2"
#define KLAB_NORM_ISA Isa::kAvx2
#include "kernels/norm/f32_norm_isa.inc"
