#!/usr/bin/env bash
# End-to-end checks of //perf:train_bench on small batches: it runs every workload, checks them,
# writes the files of docs/results-schema.md where told, and rejects bad flags with exit 2.
set -u
bench="$TEST_SRCDIR/$TEST_WORKSPACE/perf/train_bench"
out="$TEST_TMPDIR/out"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"

"$bench" --quick --threads=1 --peers=none --out="$out" >"$TEST_TMPDIR/stdout" 2>"$TEST_TMPDIR/stderr"
rc=$?
check "quick run exits 0 (stderr: $(tail -5 "$TEST_TMPDIR/stderr"))" '[ $rc -eq 0 ]'
check "json written" '[ -s "$out/train_bench.json" ]'
for w in mlp matmul_backward gpt2-0.5M gpt2-3.5M; do
  check "a row for $w" 'grep -q "\"workload\": *\"$w\"" "$out/train_bench.json"'
done
check "ms_per_step recorded" 'grep -q "\"ms_per_step\"" "$out/train_bench.json"'
check "no WRONG row" '! grep -q "WRONG" "$TEST_TMPDIR/stdout"'
check "the step split is there" 'grep -q "Where a GPT training step goes" "$TEST_TMPDIR/stdout"'

"$bench" --help >/dev/null 2>&1
rc=$?
check "--help exits 0" '[ $rc -eq 0 ]'
for bad in "--workloads=nope" "--batch=0" "--seq=65" "--threads=0" "--loss_steps=1" "--bogus"; do
  expect_exit2 "$bench" $bad --no_publish
done
exit $fail
