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
# A relative --out lands where `bazel run` was started (BUILD_WORKING_DIRECTORY), and --format
# names the files written: here only the CSV, one line per row plus the header.
mkdir -p "$TEST_TMPDIR/wd"
BUILD_WORKING_DIRECTORY="$TEST_TMPDIR/wd" "$peak" --quick --out=rel --format=csv >/dev/null 2>&1
check "relative --out from BUILD_WORKING_DIRECTORY" '[ -s "$TEST_TMPDIR/wd/rel/peak.csv" ]'
check "--format=csv writes no json or md" '[ ! -e "$TEST_TMPDIR/wd/rel/peak.json" ] && [ ! -e "$TEST_TMPDIR/wd/rel/peak.md" ]'
check "csv: header and a line per row" '[ "$(wc -l <"$TEST_TMPDIR/wd/rel/peak.csv")" -eq $(( $(grep -c "\"name\":" "$j") + 1 )) ]'
check "csv columns named as in the schema" 'head -1 "$TEST_TMPDIR/wd/rel/peak.csv" | grep -q "time_ns.median"'
for bad in "--format=xml" "--shard=0/2" "--out=x --results=y"; do
  expect_exit2 "$peak" $bad --quick
done
for bad in "--dram_mib=0" "--bogus=1" "--quick=maybe" "--pinning=weird" "--cpus=999" "--cpus=x"; do
  expect_exit2 "$peak" $bad --no_publish
done
exit $fail
