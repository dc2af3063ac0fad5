"""Compiler options for per-ISA kernel libraries (docs/style.md rule 8), defined once."""

# Floating-point contraction (a*b+c -> FMA) is off by default under -std=c++20; kernels want it,
# and every stated error bound holds with it.
KERNEL_COPTS = ["-ffp-contract=fast"]

AVX2_COPTS = KERNEL_COPTS + ["-mavx2", "-mfma"]

AVX512_COPTS = KERNEL_COPTS + [
    "-mavx2",
    "-mfma",
    "-mavx512f",
    "-mavx512bw",
    "-mavx512dq",
    "-mavx512vl",
    "-mprefer-vector-width=512",
    # GCC 12's own avx512fintrin.h (_mm512_rcp14_ps, _mm512_min_ps, _mm512_reduce_*) passes
    # _mm512_undefined_ps() on purpose, which trips these two warnings once inlined into us.
    "-Wno-uninitialized",
    "-Wno-maybe-uninitialized",
]
