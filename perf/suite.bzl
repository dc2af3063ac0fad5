"""perf_suite: a suite binary users run and its end-to-end smoke test, declared together.

`perf_suite(name = "x", deps = [...])` declares the cc_binary //perf:x from x.cc (and `srcs`) and the
sh_test //perf:x_smoke_test from x_smoke_test.sh with the binary (and `test_data`) as data
(`test_size`: "medium", 300 s; "large", 900 s, for a smoke test that runs the suite several times).
Every suite gets what every suite uses (the suite frame, flags, measurement, results) and links
the allocation-counting hook, so every row carries its allocations; `deps` lists the rest.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary")

# What every suite's main file uses.
_SUITE_DEPS = [
    ":measuring",
    ":suite",
    "//common:cli",
    "//harness:alloc_counter",
    "//harness:json",
    "//harness:measure",
    "//harness:results",
    "//harness:topology",
    "//third_party:absl_flags",
    "//third_party:absl_strings",
]

def perf_suite(name, deps, srcs = [], test_data = [], data = [], test_size = "medium"):
    cc_binary(
        name = name,
        srcs = [name + ".cc"] + srcs,
        data = data,
        deps = _SUITE_DEPS + [d for d in deps if d not in _SUITE_DEPS],
    )
    native.sh_test(
        name = name + "_smoke_test",
        size = test_size,
        srcs = [name + "_smoke_test.sh"],
        data = [":" + name, "//common:check.sh"] + test_data,
    )
