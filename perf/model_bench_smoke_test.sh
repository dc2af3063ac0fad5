#!/usr/bin/env bash
# End-to-end checks of //perf:model_bench on a quick run: rows with the model fields of
# docs/results-schema.md for the report's two GPT-2s (created from their seed) and stories260K
# (models/data), zero bytes allocated per token, hot paths and scaling sections, a clear skip when
# a model file is absent, --model for any file, and exit status 2 for bad flags.
set -u
bench="$TEST_SRCDIR/$TEST_WORKSPACE/perf/model_bench"
dir="$TEST_SRCDIR/$TEST_WORKSPACE/models/data"
t="$TEST_TMPDIR"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"

"$bench" --models_dir="$t/empty" --models=stories260K --no_publish >"$t/stdout" 2>"$t/stderr"
rc=$?
# Issue 13: nothing ran, so nothing is published and the exit says so (it was 0).
check "absent models: skipped with a message, exit 1, nothing published ($rc)" \
  '[ $rc -eq 1 ] && grep -q "skipping" "$t/stderr" && grep -q "nothing published" "$t/stderr"'
for bad in "--models=gpt3" "--models=" "--tests=xx5" "--tests=tg0" "--threads=0" "--bogus=1" \
  "--cpus=0,0" "--min_reps=0" "--min_time=nan" "extra"; do
  expect_exit2 "$bench" $bad --no_publish
done

"$bench" --quick --models_dir="$dir" --models=gpt2-0.5M,gpt2-3.5M,stories260K --threads=1,2 \
  --out="$t/out" >"$t/stdout" 2>"$t/stderr"
rc=$?
check "quick run exits 0 (stderr: $(tail -3 "$t/stderr"))" '[ $rc -eq 0 ]'
j="$t/out/model_bench.json"
check "json written" '[ -s "$j" ]'
check "markdown written" '[ -s "$t/out/model_bench.md" ]'
for model in gpt2-0.5M gpt2-3.5M stories260K; do
  check "rows for $model" 'grep -q "\"model\": *\"$model\"" "$j"'
done
for field in tokens_per_s tokens_per_s_mean tokens_per_s_sd latency_ms_per_token ttft_ms \
  bytes_per_token kv_cache_bytes creation_ms params kv_cache; do
  check "field $field" 'grep -q "\"$field\"" "$j"'
done
check "zero bytes allocated per token" '! grep -q "\"bytes_per_token\": *[1-9]" "$j"'
check "no WRONG rows" '! grep -q "WRONG" "$t/stderr"'
check "hot paths section" 'grep -q "## Hot paths" "$t/out/model_bench.md"'
check "size scaling line" 'grep -q "gpt2-3.5M / gpt2-0.5M" "$t/out/model_bench.md"'
check "thread scaling table" 'grep -q "speed-up vs 1" "$t/out/model_bench.md"'
# The PyTorch peer: same greedy ids as ours, a row of its own, and the ratio in our row.
"$bench" --quick --models=stories260K --threads=1 --tests=tg8 --out="$t/peer" >/dev/null \
  2>"$t/peer_err"
check "PyTorch peer rows, checked equal to ours (exit $?: $(grep -i pytorch "$t/peer_err" | head -1))" \
  'grep -q "\"impl\": *\"pytorch\"" "$t/peer/model_bench.json" && ! grep -q "WRONG" "$t/peer/model_bench.md" && grep -q "\"x_pytorch\"" "$t/peer/model_bench.json"'

# Any model file, the architecture read from it; the old names still work, saying so.
"$bench" --quick --model="$dir/stories260K.bin" --threads=1 --tests=tg8 --no_publish --nopytorch \
  >"$t/stdout2" 2>"$t/stderr2"
check "--model=FILE runs it (exit $?)" 'grep -q "stories260K" "$t/stdout2"'
"$bench" --quick --models=gpt2-small --threads=1 --tests=tg8 --no_publish --nopytorch >"$t/stdout3" \
  2>"$t/stderr3"
check "--models=gpt2-small: deprecated, runs gpt2-0.5M" \
  'grep -q "deprecated" "$t/stderr3" && grep -q "gpt2-0.5M" "$t/stdout3"'
exit $fail
