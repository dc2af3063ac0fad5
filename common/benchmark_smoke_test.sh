#!/usr/bin/env bash
# A Google Benchmark binary run once in `bazel test`, every benchmark with a tiny minimum time, so
# that benchmarks compile, run and cannot rot. Passes when the binary exits 0 and reports at least
# one benchmark (its JSON output, parsed by count of "name" entries).
#
#   sh_test(srcs = ["//common:benchmark_smoke_test.sh"], args = ["$(location :x_benchmark)"], ...)
set -u
bin="$1"
out="$TEST_TMPDIR/benchmark.json"
"$bin" --benchmark_min_time=0.0001 --benchmark_format=json --benchmark_out="$out" \
  --benchmark_out_format=json >/dev/null 2>"$TEST_TMPDIR/stderr"
rc=$?
count=$(grep -c '"name":' "$out" 2>/dev/null || echo 0)
echo "$(basename "$bin"): exit $rc, $count benchmarks run"
if [ "$rc" -ne 0 ] || [ "$count" -lt 1 ]; then
  tail -20 "$TEST_TMPDIR/stderr"
  exit 1
fi
