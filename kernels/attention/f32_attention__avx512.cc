// Decode attention for AVX512 (see attention.h).
#define KLAB_VEC VecAvx512
#define KLAB_ATTENTION_TABLE kAttentionAvx512
#define KLAB_ATTENTION_NAME "f32_attention__avx512"
#define KLAB_ATTENTION_ISA Isa::kAvx512
#include "kernels/attention/f32_attention_isa.inc"
