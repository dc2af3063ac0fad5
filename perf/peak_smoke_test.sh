#!/usr/bin/env bash
# //perf:peak on a quick run: FMA peak and bandwidth rows, the env block's ceilings, the files of
# RESULTS.md where told, and exit status 2 for bad flags.
set -u
peak="$TEST_SRCDIR/$TEST_WORKSPACE/perf/peak"
out="$TEST_TMPDIR/out"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }

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
  "$peak" $bad --no_publish >/dev/null 2>"$TEST_TMPDIR/err"
  rc=$?
  check "$bad exits 2 (got $rc: $(head -1 "$TEST_TMPDIR/err"))" '[ $rc -eq 2 ]'
done
exit $fail
