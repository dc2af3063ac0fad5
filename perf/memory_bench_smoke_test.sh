#!/usr/bin/env bash
# End-to-end checks of //perf:memory_bench on small shapes: every case runs and is checked, the
# pooled and in-place variants allocate nothing, files go where told, bad flags exit 2.
set -u
bench="$TEST_SRCDIR/$TEST_WORKSPACE/perf/memory_bench"
out="$TEST_TMPDIR/out"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"

"$bench" --quick --out="$out" >"$TEST_TMPDIR/stdout" 2>"$TEST_TMPDIR/stderr"
rc=$?
if grep -q "allocation counter is not in effect" "$TEST_TMPDIR/stderr"; then
  echo "SKIP: a sanitizer build replaces operator new; memory_bench has nothing to count"
  check "it says so and exits 1" '[ $rc -eq 1 ]'
  exit $fail
fi
check "quick run exits 0 (stderr: $(tail -5 "$TEST_TMPDIR/stderr"))" '[ $rc -eq 0 ]'
check "json written" '[ -s "$out/memory_bench.json" ]'
for c in pooling in_place_add in_place_gelu layernorm models training; do
  check "rows for $c" 'grep -q "\"case\": *\"$c\"" "$out/memory_bench.json"'
done
check "the pooled block allocates nothing" 'grep -A3 "memory/pooling/pooled" "$out/memory_bench.json" | head -1 >/dev/null && grep -q "| pooling | pooled | 0 | 0.0 |" "$TEST_TMPDIR/stdout"'
check "in place allocates nothing" 'grep -q "| in_place_gelu | in_place | 0 | 0.0 |" "$TEST_TMPDIR/stdout"'
check "a training step after the first allocates nothing" 'grep -q "| training | gpt2-3.5M | .* | 0 B later |" "$TEST_TMPDIR/stdout"'
check "no WRONG row" '! grep -q "WRONG" "$TEST_TMPDIR/stdout"'
"$bench" --help >/dev/null 2>&1
rc=$?
check "--help exits 0" '[ $rc -eq 0 ]'
for bad in "--cases=nope" "--batch=0" "--seq=65" "--bogus"; do
  expect_exit2 "$bench" $bad --no_publish
done
exit $fail
