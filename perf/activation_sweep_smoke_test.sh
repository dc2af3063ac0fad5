#!/usr/bin/env bash
# End-to-end checks of //perf:activation_sweep on small arrays: it runs, checks every kernel-lab
# row against its bound, writes the files of docs/results-schema.md where told, and rejects bad flags with
# exit status 2.
set -u
sweep="$TEST_SRCDIR/$TEST_WORKSPACE/perf/activation_sweep"
out="$TEST_TMPDIR/out"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"

"$sweep" --quick --sizes=100,1000 --out="$out" >"$TEST_TMPDIR/stdout" 2>"$TEST_TMPDIR/stderr"
rc=$?
check "quick run exits 0 (stderr: $(tail -5 "$TEST_TMPDIR/stderr"))" '[ $rc -eq 0 ]'
check "json written" '[ -s "$out/activation_sweep.json" ]'
check "markdown written" '[ -s "$out/activation_sweep.md" ]'
check "schema" 'grep -q "\"schema\": \"kernel-lab/results/v1\"" "$out/activation_sweep.json"'
for op in gelu_tanh gelu_erf silu swiglu softmax softmax_online layernorm rmsnorm add broadcast_add; do
  check "rows for $op" 'grep -q "\"op\": *\"$op\"" "$out/activation_sweep.json"'
done
check "std rows" 'grep -q "\"impl\": *\"std\"" "$out/activation_sweep.json"'
check "ns_per_element recorded" 'grep -q "\"ns_per_element\"" "$out/activation_sweep.json"'
check "no kernel-lab row outside its bound" '! grep -q "WRONG" "$TEST_TMPDIR/stdout"'
check "kernels allocate nothing" '! grep "\"impl\": *\"kernel-lab\"" "$out/activation_sweep.json" | grep -q "\"alloc\": *{\"bytes\": *[1-9]"'

"$sweep" --quick --ops=add --no_publish >/dev/null 2>&1
check "--no_publish exits 0" '[ $? -eq 0 ]'

# The measurement flags mean the same in every suite: --quick sets the suite's quick defaults
# (3 samples here), and a measurement flag given explicitly wins over them.
"$sweep" --quick --ops=add --sizes=100 --out="$out/q" >/dev/null 2>&1
check "--quick takes 3 samples" 'grep -q "\"reps\": *3," "$out/q/activation_sweep.json"'
"$sweep" --quick --ops=add --sizes=100 --min_reps=5 --out="$out/q5" >/dev/null 2>&1
check "--min_reps wins over --quick" 'grep -q "\"reps\": *5," "$out/q5/activation_sweep.json" && ! grep -q "\"reps\": *3," "$out/q5/activation_sweep.json"'
"$sweep" --help >"$TEST_TMPDIR/help" 2>&1
rc=$?
check "--help exits 0 and lists the measurement defaults" '[ $rc -eq 0 ] && grep -q "with --quick: --min_reps=3" "$TEST_TMPDIR/help"'

long_pattern=$(printf 'a%.0s' $(seq 1 2000))
for bad in "--sizes=0" "--sizes=abc" "--bogus=1" "--ops=nothing_matches" "--ops=((" \
  "--min_sample_time=nan" "--min_sample_time=1e9" "--min_time=-1" "--min_reps=0" "--max_time=0" "--ops=$long_pattern" \
  "--cpus=0,0" "extra"; do
  expect_exit2 "$sweep" $bad --no_publish
done
exit $fail
