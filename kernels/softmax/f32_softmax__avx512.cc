// Softmax for AVX512 (see softmax.h).
#define KLAB_VEC VecAvx512
#define KLAB_SOFTMAX_TABLE kSoftmaxAvx512
#define KLAB_SOFTMAX_NAME "f32_softmax__avx512"
#define KLAB_SOFTMAX_ISA Isa::kAvx512
#include "kernels/softmax/f32_softmax_isa.inc"
