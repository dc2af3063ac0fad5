"""klab_fuzzer: one libFuzzer target and its regression test from one source file.

klab_fuzzer(name = "x_fuzzer", srcs = ["x_fuzzer.cc"], deps = [...]) defines
  x_fuzzer             a binary: libFuzzer's main under --config=fuzz (clang, ASan, UBSan),
                       the corpus-replay main (replay_main.cc) otherwise
  x_fuzzer_regression  a test: every file of corpus/x_fuzzer/ and a fixed number of
                       deterministic mutations of each, under whatever config `bazel test` has
                       (plain, --config=asan, --config=ubsan, --config=fuzz); `extra_seeds`
                       (files of the repository, e.g. the real model) are replayed too
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def klab_fuzzer(name, srcs, deps, mutations = 200, extra_seeds = []):
    corpus = native.glob(["corpus/%s/*" % name])
    cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + select({
            ":fuzz_build": [],
            "//conditions:default": [":replay_main"],
        }),
        linkopts = select({
            ":fuzz_build": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = corpus,
    )
    cc_test(
        name = name + "_regression",
        srcs = srcs,
        deps = deps + [":replay_main"],
        data = corpus + extra_seeds,
        args = ["--mutations=%d" % mutations, "fuzz/corpus/" + name] +
               ["$(location %s)" % s for s in extra_seeds],
    )
