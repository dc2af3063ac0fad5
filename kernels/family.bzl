"""kernel_family: the targets of one elementwise kernel family, laid out the same way each time.

A family `x` in kernels/x/ has
  x.h                 the contract and the registry struct (public)
  f32_x_isa.inc       the kernels, written once over the vector traits of kernels/simd/vec.h
  f32_x__avx2.cc      f32_x_isa.inc instantiated for AVX2 (its own copts, docs/style.md rule 8)
  f32_x__avx512.cc    the same for AVX-512
  x.cc                the scalar variant, the registry (declaring the per-ISA tables) and the
                      run-time dispatch, compiled for the baseline ISA
  x_test.cc           every variant the CPU runs against double
"""

load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")
load("//kernels:copts.bzl", "AVX2_COPTS", "AVX512_COPTS", "KERNEL_COPTS")

def kernel_family(name, public_hdrs = [], impl_hdrs = [], impl_deps = [], deps = [], test_deps = []):
    """Declares <name>_internal, <name>_avx2, <name>_avx512, <name> and <name>_test.

    Args:
      name: the family, e.g. "softmax".
      public_hdrs: headers beside <name>.h that users may include (e.g. a double reference).
      impl_hdrs: extra headers the per-ISA code includes (e.g. "activation_impl.h").
      impl_deps: what the per-ISA code depends on (vector traits, vmath templates).
      deps: what <name>.cc needs beyond the CPU detection (e.g. the GEMM thread pool).
      test_deps: extra dependencies of the test.
    """
    cc_library(
        name = name + "_internal",
        hdrs = [
            name + ".h",
            "f32_%s_isa.inc" % name,
        ] + impl_hdrs,
        visibility = ["//visibility:private"],
        deps = ["//kernels/cpu", "//third_party:absl_span"] + impl_deps,
    )
    for isa, copts in [("avx2", AVX2_COPTS), ("avx512", AVX512_COPTS)]:
        cc_library(
            name = "%s_%s" % (name, isa),
            srcs = ["f32_%s__%s.cc" % (name, isa)],
            copts = copts,
            visibility = ["//visibility:private"],
            deps = [":%s_internal" % name],
        )
    cc_library(
        name = name,
        srcs = [name + ".cc"],
        hdrs = [name + ".h"] + public_hdrs,
        copts = KERNEL_COPTS,
        deps = [
            ":%s_avx2" % name,
            ":%s_avx512" % name,
            ":%s_internal" % name,
            "//kernels/cpu",
            "//third_party:absl_span",
        ] + deps,
    )
    cc_test(
        name = name + "_test",
        size = "medium",
        srcs = [name + "_test.cc"],
        deps = [":" + name, "//third_party:gtest_main"] + test_deps,
    )
