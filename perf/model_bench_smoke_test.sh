#!/usr/bin/env bash
# End-to-end checks of //perf:model_bench on a quick run: rows with the model fields of
# docs/results-schema.md, zero bytes allocated per token, hot paths and scaling sections, a clear skip when
# the model files are absent, and exit status 2 for bad flags.
set -u
bench="$TEST_SRCDIR/$TEST_WORKSPACE/perf/model_bench"
dir="${KLAB_MODELS_DIR:-}"
t="$TEST_TMPDIR"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"

"$bench" --models_dir="$t/empty" --no_publish >"$t/stdout" 2>"$t/stderr"
rc=$?
# Issue 13: nothing ran, so nothing is published and the exit says so (it was 0).
check "absent models: skipped with a message, exit 1, nothing published ($rc)" \
  '[ $rc -eq 1 ] && grep -q "skipping" "$t/stderr" && grep -q "nothing published" "$t/stderr"'
for bad in "--models=gpt3" "--models=" "--tests=xx5" "--tests=tg0" "--threads=0" "--bogus=1" \
  "--cpus=0,0" "--min_reps=0" "--min_time=nan" "extra"; do
  expect_exit2 "$bench" $bad --no_publish
done

if [ -z "$dir" ] || [ ! -f "$dir/stories260K.bin" ]; then
  echo "SKIP: the timed part needs the model files (set KLAB_MODELS_DIR; .ci/run does)"
  exit $fail
fi
"$bench" --quick --models_dir="$dir" --models=gpt2-small,gpt2-medium,stories260K --threads=1,2 \
  --out="$t/out" >"$t/stdout" 2>"$t/stderr"
rc=$?
check "quick run exits 0 (stderr: $(tail -3 "$t/stderr"))" '[ $rc -eq 0 ]'
j="$t/out/model_bench.json"
check "json written" '[ -s "$j" ]'
check "markdown written" '[ -s "$t/out/model_bench.md" ]'
for model in gpt2-small gpt2-medium stories260K; do
  check "rows for $model" 'grep -q "\"model\": *\"$model\"" "$j"'
done
for field in tokens_per_s tokens_per_s_mean tokens_per_s_sd latency_ms_per_token ttft_ms \
  bytes_per_token kv_cache_bytes creation_ms params kv_cache; do
  check "field $field" 'grep -q "\"$field\"" "$j"'
done
check "zero bytes allocated per token" '! grep -q "\"bytes_per_token\": *[1-9]" "$j"'
check "no WRONG rows" '! grep -q "WRONG" "$t/stderr"'
check "hot paths section" 'grep -q "## Hot paths" "$t/out/model_bench.md"'
check "size scaling line" 'grep -q "Medium / Small" "$t/out/model_bench.md"'
check "thread scaling table" 'grep -q "speed-up vs 1" "$t/out/model_bench.md"'
exit $fail
