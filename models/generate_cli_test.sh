#!/usr/bin/env bash
# End-to-end checks of //models:generate: the README's greedy story, token ids for GPT-2, the
# three forward paths agreeing, relative paths from BUILD_WORKING_DIRECTORY, and one clear line
# with a non-zero exit for every kind of bad input. Needs ../shared/models ($KLAB_MODELS_DIR);
# skips (passes, saying so) when it is absent.
set -u
gen="$TEST_SRCDIR/$TEST_WORKSPACE/models/generate"
dir="${KLAB_MODELS_DIR:-}"
if [ -z "$dir" ] || [ ! -f "$dir/stories260K.bin" ]; then
  echo "SKIP: model files not found (set KLAB_MODELS_DIR; .ci/run does)"
  exit 0
fi
t="$TEST_TMPDIR"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"

"$gen" --model="$dir/stories260K.bin" --tokenizer="$dir/tok512.bin" --prompt="Once upon a time" \
  --steps=64 >"$t/story" 2>"$t/stats"
check "stories260K exits 0 ($(head -1 "$t/stats"))" '[ $? -eq 0 ]'
check "the README's sentence" 'grep -q "^Once upon a time, there was a little girl named Lily. She loved to play outside" "$t/story"'
check "statistics on stderr" 'grep -q "tok/s" "$t/stats"'
for flags in "--noprefill" "--nokv_cache"; do
  "$gen" --model="$dir/stories260K.bin" --prompt="Once upon a time" --steps=64 $flags \
    >"$t/other" 2>/dev/null
  check "$flags gives the same story" 'cmp -s "$t/story" "$t/other"'
done
# Relative paths are taken from where bazel run was started; the tokenizer is found beside it.
(cd / && BUILD_WORKING_DIRECTORY="$dir" "$gen" --model=stories260K.bin --prompt="Once upon a time" \
  --steps=64 >"$t/relative" 2>/dev/null)
check "relative --model from BUILD_WORKING_DIRECTORY" 'cmp -s "$t/story" "$t/relative"'

"$gen" --model="$dir/gpt2_small_xorshift1.bin" --prompt_ids=1,2,3 --print_ids --steps=10 \
  >"$t/ids" 2>/dev/null
check "GPT-2 --print_ids exits 0" '[ $? -eq 0 ]'
check "11 ids: the prompt's 3, then one per position from the third (got: $(cat "$t/ids"))" \
  '[ "$(wc -w <"$t/ids")" -eq 11 ] && grep -q "^1 2 3 " "$t/ids"'
"$gen" --gpt2_config=small --weights_seed=1 --prompt_ids=1,2,3 --print_ids --steps=10 \
  >"$t/created" 2>/dev/null
check "--gpt2_config=small (created from the seed) gives the file's ids" 'cmp -s "$t/ids" "$t/created"'
"$gen" --model="$dir/gpt2_small_xorshift1.bin" --prompt_ids=1,2,3 --print_ids --steps=10 \
  --temperature=0.9 --seed=5 >"$t/s1" 2>/dev/null
"$gen" --model="$dir/gpt2_small_xorshift1.bin" --prompt_ids=1,2,3 --print_ids --steps=10 \
  --temperature=0.9 --seed=5 >"$t/s2" 2>/dev/null
check "sampling is reproducible with --seed" 'cmp -s "$t/s1" "$t/s2"'

# Bad input: one line on stderr, non-zero exit (2 for usage, 1 for bad files and values).
head -c 1000 "$dir/stories260K.bin" >"$t/truncated.bin"
printf 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' >"$t/garbage.bin"
expect() {  # expect <code> <what> <pattern> -- args...
  local code=$1 what=$2 pattern=$3
  shift 4
  "$gen" "$@" >/dev/null 2>"$t/err"
  local rc=$?
  check "$what exits $code with '$pattern' (got $rc: $(head -1 "$t/err"))" \
    '[ $rc -eq $code ] && grep -q "$pattern" "$t/err"'
}
expect 2 "no --model" "model is required" -- --prompt=hi
expect 2 "--model and --gpt2_config" "not both" -- --model=x --gpt2_config=small --prompt_ids=1
expect 2 "an impossible --gpt2_config" "does not divide" -- --gpt2_config=64,32,48,2,5 \
  --prompt_ids=1 --print_ids
expect 2 "no prompt" "exactly one" -- --model="$dir/stories260K.bin"
expect 2 "both prompts" "exactly one" -- --model="$dir/stories260K.bin" --prompt=a --prompt_ids=1
expect 1 "a missing file" "cannot open" -- --model="$t/nope.bin" --prompt=hi
expect 1 "a truncated file" "needs exactly" -- --model="$t/truncated.bin" --prompt_ids=1 --print_ids
expect 1 "a garbage file" "outside" -- --model="$t/garbage.bin" --prompt_ids=1 --print_ids
expect 2 "text for GPT-2" "no tokenizer" -- --model="$dir/gpt2_small_xorshift1.bin" --prompt=hi
expect 1 "a token outside the vocabulary" "outside the vocabulary" -- \
  --model="$dir/gpt2_small_xorshift1.bin" --prompt_ids=1,999 --print_ids
expect 2 "a non-integer id" "not an integer" -- --model="$dir/gpt2_small_xorshift1.bin" \
  --prompt_ids=1,x --print_ids
expect 2 "--steps=0" "steps" -- --model="$dir/stories260K.bin" --prompt=hi --steps=0
expect 2 "a negative temperature" "temperature" -- --model="$dir/stories260K.bin" --prompt=hi \
  --temperature=-1
expect 1 "a prompt longer than the steps" "more than" -- --model="$dir/stories260K.bin" \
  --prompt="Once upon a time there was" --steps=3
# A tokenizer of a larger vocabulary (one more entry), and a truncated one.
{ cat "$dir/tok512.bin"; printf '\0\0\0\0\1\0\0\0x'; } >"$t/tok513.bin"
head -c 3000 "$dir/tok512.bin" >"$t/tok_truncated.bin"
expect 1 "a tokenizer of a larger vocabulary" "larger vocabulary" -- \
  --model="$dir/stories260K.bin" --tokenizer="$t/tok513.bin" --prompt=hi
expect 1 "a truncated tokenizer" "truncated\|holds" -- \
  --model="$dir/stories260K.bin" --tokenizer="$t/tok_truncated.bin" --prompt=hi
expect 2 "an unknown flag" "bogus" -- --bogus=1
exit $fail
