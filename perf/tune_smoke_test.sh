#!/usr/bin/env bash
# //perf:tune end to end on the quick case lists: a profile is written, valid and for this CPU;
# KLAB_TUNING loads it (the record says which profile was in force); a profile that does not parse
# or names another CPU stops a run with exit 2 and the reason; bad flags exit 2.
set -u
tune="$TEST_SRCDIR/$TEST_WORKSPACE/perf/tune"
sweep="$TEST_SRCDIR/$TEST_WORKSPACE/perf/matmul_sweep"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"
profile="$TEST_TMPDIR/profile.json"

"$tune" --quick --profile="$profile" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err"
rc=$?
check "tune exits 0 ($(tail -2 "$TEST_TMPDIR/err"))" '[ $rc -eq 0 ]'
check "profile written with its schema" 'grep -q "\"schema\": \"kernel-lab/tuning/v1\"" "$profile"'
check "profile names classes with their evidence" 'grep -q "\"candidates\"" "$profile" && grep -q "\"NT/m1/" "$profile"'
check "a table of choices printed" 'grep -q "^| NN/" "$TEST_TMPDIR/out"'

KLAB_TUNING="$profile" "$sweep" --quick --sizes=64 --peers=none --variants=sgemm_auto --out="$TEST_TMPDIR/s" --format=json >/dev/null 2>&1
check "a run under KLAB_TUNING exits 0" '[ $? -eq 0 ]'
check "its record names the profile in force" 'grep -q "\"tuning\": \"KLAB_TUNING=$profile\"" "$TEST_TMPDIR/s/matmul_sweep.json"'

echo '{"schema": "kernel-lab/tuning/v1"' >"$TEST_TMPDIR/broken.json"
KLAB_TUNING="$TEST_TMPDIR/broken.json" "$sweep" --quick --sizes=64 --peers=none --no_publish >/dev/null 2>"$TEST_TMPDIR/e1"
rc=$?
check "a broken profile exits 2 ($(head -1 "$TEST_TMPDIR/e1"))" '[ $rc -eq 2 ] && grep -q "KLAB_TUNING=" "$TEST_TMPDIR/e1"'
sed 's/"family": [0-9]*/"family": 999/' "$profile" >"$TEST_TMPDIR/other.json"
KLAB_TUNING="$TEST_TMPDIR/other.json" "$sweep" --quick --sizes=64 --peers=none --no_publish >/dev/null 2>"$TEST_TMPDIR/e2"
rc=$?
check "a profile for another CPU exits 2 ($(head -1 "$TEST_TMPDIR/e2"))" '[ $rc -eq 2 ] && grep -q "family 999" "$TEST_TMPDIR/e2"'

"$tune" --quick --profile="$TEST_TMPDIR/again.json" --compare="$profile" >/dev/null 2>"$TEST_TMPDIR/again.err"
rc=$?
check "a second run says how it reproduces the first ($(grep against "$TEST_TMPDIR/again.err"))" \
  '[ $rc -eq 0 ] && grep -q "choices the same" "$TEST_TMPDIR/again.err" && grep -q "\"reproduces\"" "$TEST_TMPDIR/again.json"'

expect_exit2 "$tune" --budget=0 --profile="$TEST_TMPDIR/x.json"
expect_exit2 "$tune" --bogus=1
exit $fail
