// Decode attention for AVX2 (see attention.h).
#define KLAB_VEC VecAvx2
#define KLAB_ATTENTION_TABLE kAttentionAvx2
#define KLAB_ATTENTION_NAME "f32_attention__avx2"
#define KLAB_ATTENTION_ISA Isa::kAvx2
#include "kernels/attention/f32_attention_isa.inc"
