#!/usr/bin/env bash
# End-to-end checks of //models:generate: the README's greedy story, token ids for GPT-2, the
# three forward paths agreeing, relative paths from BUILD_WORKING_DIRECTORY, and one clear line
# with a non-zero exit for every kind of bad input (issue 13's among them). stories260K comes from
# the repository (models/data); the GPT-2 file is written here from the seed.
set -u
gen="$TEST_SRCDIR/$TEST_WORKSPACE/models/generate"
dir="$TEST_SRCDIR/$TEST_WORKSPACE/models/data"
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

# The GPT-2 file, written from the seed (the published file's bytes: its SHA-256 is checked below).
"$gen" --gpt2_config=gpt2-0.5M --save_model="$t/gpt2_small_xorshift1.bin" --prompt_ids=1 \
  --print_ids --steps=2 >/dev/null 2>&1
gpt2="$t/gpt2_small_xorshift1.bin"
if [ -f "$gpt2" ]; then
"$gen" --model="$gpt2" --prompt_ids=1,2,3 --print_ids --steps=10 \
  >"$t/ids" 2>/dev/null
check "GPT-2 --print_ids exits 0" '[ $? -eq 0 ]'
check "11 ids: the prompt's 3, then one per position from the third (got: $(cat "$t/ids"))" \
  '[ "$(wc -w <"$t/ids")" -eq 11 ] && grep -q "^1 2 3 " "$t/ids"'
"$gen" --gpt2_config=gpt2-0.5M --weights_seed=1 --prompt_ids=1,2,3 --print_ids --steps=10 \
  >"$t/created" 2>/dev/null
check "--gpt2_config=gpt2-0.5M (created from the seed) gives the file's ids" 'cmp -s "$t/ids" "$t/created"'
"$gen" --gpt2_config=small --weights_seed=1 --prompt_ids=1,2,3 --print_ids --steps=10 \
  >"$t/alias" 2>"$t/alias_err"
check "the old name small still works, saying it is deprecated" \
  'cmp -s "$t/ids" "$t/alias" && grep -q "deprecated" "$t/alias_err"'
"$gen" --model="$gpt2" --prompt_ids=1,2,3 --print_ids --steps=10 \
  --temperature=0.9 --seed=5 >"$t/s1" 2>/dev/null
"$gen" --model="$gpt2" --prompt_ids=1,2,3 --print_ids --steps=10 \
  --temperature=0.9 --seed=5 >"$t/s2" 2>/dev/null
check "sampling is reproducible with --seed" 'cmp -s "$t/s1" "$t/s2"'
fi

# Bad input: one line on stderr, non-zero exit (2 for usage, 1 for bad files and values).
head -c 1000 "$dir/stories260K.bin" >"$t/truncated.bin"
printf 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' >"$t/garbage.bin"
expect() {  # expect <code> <what> <pattern> -- args...
  local code=$1 what=$2 pattern=$3
  shift 4
  timeout 10 "$gen" "$@" >/dev/null 2>"$t/err"
  local rc=$?
  check "$what exits $code with '$pattern' (got $rc: $(head -1 "$t/err"))" \
    '[ $rc -eq $code ] && grep -q "$pattern" "$t/err"'
}
expect 2 "--model and --gpt2_config" "not both" -- --model=x --gpt2_config=gpt2-0.5M --prompt_ids=1
expect 2 "an impossible --gpt2_config" "does not divide" -- --gpt2_config=64,32,48,2,5 \
  --prompt_ids=1 --print_ids
expect 2 "both prompts" "at most one" -- --model="$dir/stories260K.bin" --prompt=a --prompt_ids=1
expect 1 "a missing file" "cannot open" -- --model="$t/nope.bin" --prompt=hi
expect 1 "a truncated file" "needs exactly" -- --model="$t/truncated.bin" --prompt_ids=1 --print_ids
expect 1 "a garbage file" "outside" -- --model="$t/garbage.bin" --prompt_ids=1 --print_ids
expect 2 "text for GPT-2" "no tokenizer" -- --gpt2_config=gpt2-0.5M --prompt=hi
expect 1 "a token outside the vocabulary" "outside the vocabulary" -- \
  --gpt2_config=gpt2-0.5M --prompt_ids=1,999 --print_ids
expect 2 "a non-integer id" "not an integer" -- --gpt2_config=gpt2-0.5M --prompt_ids=1,x --print_ids
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

# The GPT-2 configurations created from their seed are the published files byte for byte (their
# SHA-256 as docs/model-files.md lists them): no file beside the repository is needed.
"$gen" --gpt2_config=gpt2-0.5M --save_model="$t/g05.bin" --prompt_ids=1 --print_ids --steps=2 \
  >/dev/null 2>&1
"$gen" --gpt2_config=gpt2-3.5M --save_model="$t/g35.bin" --prompt_ids=1 --print_ids --steps=2 \
  >/dev/null 2>&1
check "gpt2-0.5M from the seed is gpt2_small_xorshift1.bin" \
  '[ "$(sha256sum <"$t/g05.bin" | cut -c1-64)" = c5b78907b399eae2faf505eb1d6f37001ffe041b1d13a4c0ddb12a533273e37c ]'
check "gpt2-3.5M from the seed is gpt2_medium_xorshift1.bin" \
  '[ "$(sha256sum <"$t/g35.bin" | cut -c1-64)" = 51c19cb3ae2a5373831e43f29f921f88be6d77d98202477d2c548010e9c1da20 ]'
expect 2 "--save_model without --gpt2_config" "needs --gpt2_config" -- --save_model="$t/x.bin"

# llama2.c's habits: no flags at all runs the repository's stories260K from BOS and tells a story;
# the speed line counts in the singular where it should.
(cd "$TEST_SRCDIR/$TEST_WORKSPACE" && "$gen" --steps=40 >"$t/bos" 2>"$t/bos_err")
check "no flags: a story from BOS (exit $?: $(tail -1 "$t/bos_err"))" \
  '[ -s "$t/bos" ] && grep -q "1 thread:" "$t/bos_err" && grep -q "prompt 1 token in" "$t/bos_err"'
"$gen" --model="$dir/stories260K.bin" --prompt="" --steps=40 >"$t/empty_prompt" 2>/dev/null
check "an empty --prompt starts from BOS too" 'cmp -s "$t/bos" "$t/empty_prompt"'

# Issue 13: hostile files and values. Each used to hang, print garbage with exit 0, or allocate
# gigabytes.
mkfifo "$t/fifo.bin"
expect 1 "a FIFO as --model (used to block forever)" "FIFO" -- --model="$t/fifo.bin" --prompt_ids=1 \
  --print_ids
expect 1 "a FIFO as --tokenizer" "FIFO" -- --model="$dir/stories260K.bin" --tokenizer="$t/fifo.bin" \
  --prompt=hi
mkdir -p "$t/folder.bin"
expect 1 "a folder as --model" "a folder" -- --model="$t/folder.bin" --prompt_ids=1 --print_ids
# One NaN in wq (offset 28 + (512*64 + 5*64)*4): refused at load, naming the tensor.
cp "$dir/stories260K.bin" "$t/nan.bin"
printf '\x00\x00\xc0\x7f' | dd of="$t/nan.bin" bs=1 seek=$((28 + (512 * 64 + 5 * 64) * 4)) \
  conv=notrunc 2>/dev/null
expect 1 "a NaN weight" "wq\[0\] is nan" -- --model="$t/nan.bin" --tokenizer="$dir/tok512.bin" \
  --prompt=hi
expect 2 "--temperature=1e-40 (1/T overflowed)" "temperature" -- --model="$dir/stories260K.bin" \
  --prompt=hi --temperature=1e-40
# 100 kB of prompt: refused from its length at once (it used to take minutes before the check).
head -c 100000 /dev/zero | tr '\0' 'a' >"$t/long_prompt"
expect 1 "a 100 kB prompt" "more than the" -- --model="$dir/stories260K.bin" \
  --prompt="$(cat "$t/long_prompt")"
expect 1 "a model over --max_memory_mb" "max_memory_mb" -- --model="$dir/stories260K.bin" \
  --prompt=hi --max_memory_mb=1
expect 2 "an extra positional argument" "unexpected argument" -- --model="$dir/stories260K.bin" \
  --prompt=hi extra
"$gen" --model="$dir/stories260K.bin" --prompt="Once upon a time" --steps=16 >/dev/full 2>"$t/err"
rc=$?
check "stdout on a full disk exits 1 (got $rc: $(head -1 "$t/err"))" \
  '[ $rc -eq 1 ] && grep -q "error writing to standard output" "$t/err"'
exit $fail
