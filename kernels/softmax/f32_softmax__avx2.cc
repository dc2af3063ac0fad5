// Softmax for AVX2 (see softmax.h).
#define KLAB_VEC VecAvx2
#define KLAB_SOFTMAX_TABLE kSoftmaxAvx2
#define KLAB_SOFTMAX_NAME "f32_softmax__avx2"
#define KLAB_SOFTMAX_ISA Isa::kAvx2
#include "kernels/softmax/f32_softmax_isa.inc"
