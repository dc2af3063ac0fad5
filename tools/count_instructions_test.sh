#!/usr/bin/env bash
# tools/count_instructions.sh on //lab/gemm:gemm_case: counts are exact (the same run twice gives
# the same number), a second call of an AVX2 variant costs at least its 2 n^3 / 8 vector FMAs,
# and an AVX-512 variant is refused with a message instead of a wrong count.
set -u
tool="$TEST_SRCDIR/$TEST_WORKSPACE/tools/count_instructions.sh"
case_bin="$TEST_SRCDIR/$TEST_WORKSPACE/lab/gemm/gemm_case"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"
if ! command -v valgrind >/dev/null; then echo "SKIP: valgrind not installed"; exit 0; fi
# AddressSanitizer and Valgrind cannot run one program together (--config=asan builds it so).
if grep -q "__asan_init" "$case_bin"; then echo "SKIP: built with AddressSanitizer"; exit 0; fi
count() { "$tool" "$case_bin" "$@" 2>&1 | sed -n 's/^instructions: //p'; }
one=$(count --variant=loop_ikj__avx2 --m=64 --n=64 --k=64 --reps=1)
again=$(count --variant=loop_ikj__avx2 --m=64 --n=64 --k=64 --reps=1)
two=$(count --variant=loop_ikj__avx2 --m=64 --n=64 --k=64 --reps=2)
echo "reps=1: $one, again: $again, reps=2: $two"
check "a count was printed" '[ -n "$one" ] && [ "$one" -gt 0 ]'
check "exact: the same run gives the same count" '[ "$one" = "$again" ]'
# One call of 64^3 multiply-adds in 8-lane FMAs is at least 32768 instructions.
check "one more call costs >= 64^3 / 8 instructions" '[ $((two - one)) -ge 32768 ]'
if grep -q avx512f /proc/cpuinfo; then
  "$tool" "$case_bin" --variant=packed_8x32__avx512 --m=32 --n=32 --k=32 >/dev/null 2>"$TEST_TMPDIR/err"
  rc=$?
  check "an AVX-512 variant is refused with a message (rc $rc: $(head -1 "$TEST_TMPDIR/err"))" \
    '[ $rc -eq 1 ] && grep -q "AVX-512" "$TEST_TMPDIR/err"'
fi
exit $fail
