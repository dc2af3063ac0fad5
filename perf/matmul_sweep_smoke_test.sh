#!/usr/bin/env bash
# End-to-end checks of //perf:matmul_sweep on tiny problems: it runs, checks, writes the files of
# docs/results-schema.md where told, and rejects bad flags with exit status 2 and one line.
set -u
sweep="$TEST_SRCDIR/$TEST_WORKSPACE/perf/matmul_sweep"
# Under --config=asan only: LeakSanitizer's tracer crashes reading the dynamic-TLS ranges of the
# dlopen'ed peer libraries ("DTLS 14 at 0x377-0x2400001479", then SIGSEGV in the tracer). With
# use_tls=0 it does not treat thread-local storage as roots: it can only report more, never fewer,
# leaks, so libgomp's TLS-held state is suppressed by name (lsan_peers.supp). Ignored by builds
# without the sanitizer.
export LSAN_OPTIONS="use_tls=0:suppressions=$TEST_SRCDIR/$TEST_WORKSPACE/perf/lsan_peers.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
out="$TEST_TMPDIR/out"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"

# A tiny run into --out: both files, schema, rows checked ok, every expected implementation.
"$sweep" --sizes=16,33 --min_reps=2 --min_time=0 --out="$out" >"$TEST_TMPDIR/stdout" 2>"$TEST_TMPDIR/stderr"
rc=$?
check "tiny run exits 0 (stderr: $(grep -v "^\[" "$TEST_TMPDIR/stderr" | tail -25))" '[ $rc -eq 0 ]'
check "json written" '[ -s "$out/matmul_sweep.json" ]'
check "markdown written" '[ -s "$out/matmul_sweep.md" ]'
check "GFLOP/s chart written (SVG)" 'grep -q "<svg" "$out/matmul_sweep_gflops_t1.svg"'
check "roofline written (SVG)" 'grep -q "peak" "$out/matmul_sweep_roofline.svg"'
check "schema" 'grep -q "\"schema\": \"kernel-lab/results/v1\"" "$out/matmul_sweep.json"'
for impl in naive_ijk loop_ikj openblas blis onednn; do
  check "row for $impl" 'grep -q "\"variant\": *\"$impl\"" "$out/matmul_sweep.json"'
done
check "rows were checked" 'grep -q "\"ok\": *true" "$out/matmul_sweep.json"'
check "no wrong results" '! grep -q "\"ok\": *false" "$out/matmul_sweep.json"'
check "table on stdout" 'grep -q "## 1 thread" "$TEST_TMPDIR/stdout"'
check "counters reason recorded" 'grep -q "\"reason\"" "$out/matmul_sweep.json"'

# naive_ijk above --naive_max_size is skipped and says so.
"$sweep" --sizes=40 --naive_max_size=32 --variants=naive_ijk --peers=none --min_reps=1 --min_time=0 --out="$out/naive" >"$TEST_TMPDIR/naive" 2>&1
check "naive skip is explained" 'grep -q "naive above 32" "$out/naive/matmul_sweep.md"'

# Transformer shapes: linear_packed (the models' call on packed W) is timed and checked, and every
# M = 1 shape gets its read ceiling and a row in the weight-streaming table.
"$sweep" --shapes=transformer --variants='linear_packed|smallm__avx512' --peers=none --min_reps=1 \
  --min_time=0 --min_sample_time=0 --out="$out/tr" >"$TEST_TMPDIR/tr" 2>&1
rc=$?
check "transformer run exits 0 (tail: $(tail -3 "$TEST_TMPDIR/tr"))" '[ $rc -eq 0 ]'
check "linear_packed rows" 'grep -q "\"variant\": *\"linear_packed\"" "$out/tr/matmul_sweep-transformer.json"'
check "linear_packed rows checked ok" '! grep -q "\"ok\": *false" "$out/tr/matmul_sweep-transformer.json"'
check "read ceilings recorded" 'grep -q "\"read_ceilings\"" "$out/tr/matmul_sweep-transformer.json"'
check "eight M = 1 rows against the ceiling" \
  '[ "$(grep -c "^| 1 | 1x" "$out/tr/matmul_sweep-transformer.md")" -eq 8 ]'

# --no_publish writes nothing.
"$sweep" --quick --sizes=8 --peers=none --no_publish >/dev/null 2>&1
check "--no_publish exits 0" '[ $? -eq 0 ]'

# Bad flags: exit 2 and a one-line reason naming the problem.
expect_usage_error() {
  local what="$1" pattern="$2"; shift 2
  "$sweep" "$@" >/dev/null 2>"$TEST_TMPDIR/err"
  local rc=$?
  local lines
  lines=$(grep -c . "$TEST_TMPDIR/err")
  check "$what exits 2 (got $rc)" '[ $rc -eq 2 ]'
  check "$what names the problem ($pattern)" 'grep -q -- "$pattern" "$TEST_TMPDIR/err"'
  check "$what: a reason line and a hint, no more ($lines lines)" '[ "$lines" -le 2 ]'
}
expect_usage_error "unknown flag" "unknown flag --bogus" --bogus=1
expect_usage_error "negative size" "--sizes: -4 is outside" --sizes=-4
expect_usage_error "non-numeric size" "'abc' is not an integer" --sizes=abc
expect_usage_error "zero threads" "--threads: 0 is outside" --threads=0
expect_usage_error "bad regex" "--variants: bad regular expression" "--variants=("
expect_usage_error "unknown peer" "unknown peer 'mkl'" --peers=mkl
expect_usage_error "bad int" "bad value for --min_reps" --min_reps=many
# Issue 13.
long_pattern=$(printf 'a%.0s' $(seq 1 2000))
expect_usage_error "a 2000-character pattern (crashed std::regex)" "more than 512" \
  "--variants=$long_pattern"
expect_usage_error "a core listed twice" "listed twice" --cpus=0,0 --threads=2 --no_publish
expect_usage_error "an unwritable --out, before measuring" "--out: cannot" --out=/proc/klab/x
expect_usage_error "an extra argument" "unexpected argument 'extra'" extra
expect_usage_error "--help text names --sizes once" "'abc' is not an integer" --sizes=abc
check "no '----' in the messages" '! grep -q -- "----" "$TEST_TMPDIR/err"'
"$sweep" --help >"$TEST_TMPDIR/help" 2>"$TEST_TMPDIR/help_err"
rc=$?
check "--help exits 0" '[ $rc -eq 0 ]'
check "--help goes to stdout and mentions --sizes" 'grep -q -- "--sizes" "$TEST_TMPDIR/help"'
"$sweep" -h >/dev/null 2>&1
rc=$?
check "-h is --help" '[ $rc -eq 0 ]'

exit $fail
