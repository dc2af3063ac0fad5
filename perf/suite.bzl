"""perf_suite: a suite binary users run and its end-to-end smoke test, declared together.

`perf_suite(name = "x", deps = [...])` declares the cc_binary //perf:x from x.cc and the
sh_test //perf:x_smoke_test from x_smoke_test.sh with the binary (and `test_data`) as data.
Every suite links the allocation-counting hook, so every row carries its allocations.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary")

def perf_suite(name, deps, test_data = []):
    cc_binary(
        name = name,
        srcs = [name + ".cc"],
        deps = deps + ([] if "//harness:alloc_counter" in deps else ["//harness:alloc_counter"]),
    )
    native.sh_test(
        name = name + "_smoke_test",
        size = "medium",
        srcs = [name + "_smoke_test.sh"],
        data = [":" + name] + test_data,
    )
