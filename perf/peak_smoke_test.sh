#!/usr/bin/env bash
# //perf:peak on a quick run: FMA peak and bandwidth rows, the env block's ceilings, the files of
# docs/results-schema.md where told, and exit status 2 for bad flags.
set -u
peak="$TEST_SRCDIR/$TEST_WORKSPACE/perf/peak"
out="$TEST_TMPDIR/out"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"

"$peak" --quick --out="$out" >"$TEST_TMPDIR/stdout" 2>"$TEST_TMPDIR/stderr"
rc=$?
check "quick run exits 0 (stderr: $(tail -3 "$TEST_TMPDIR/stderr"))" '[ $rc -eq 0 ]'
j="$out/peak.json"
check "json written" '[ -s "$j" ]'
check "markdown written" '[ -s "$out/peak.md" ]'
for op in fma_peak read triad; do
  check "rows for $op" 'grep -q "\"op\": *\"$op\"" "$j"'
done
check "env.peak_gflops_per_core is a number" 'grep -q "\"peak_gflops_per_core\": *[0-9]" "$j"'
check "env.bandwidth_gbs has l1 and l2" 'grep -A12 "\"bandwidth_gbs\"" "$j" | grep -q "\"l2\""'
for bad in "--dram_mib=0" "--bogus=1" "--quick=maybe" "--pinning=weird" "--cpus=999" "--cpus=x"; do
  expect_exit2 "$peak" $bad --no_publish
done
exit $fail
