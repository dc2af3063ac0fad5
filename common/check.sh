# Sourced by the shell tests: a named check that records failure and goes on, and the usual
# bad-flag check. End a test with `exit $fail`.
#
#   source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"
#   check "json written" '[ -s "$j" ]'
#   expect_exit2 "$binary" --bogus=1 --no_publish
fail=0

# check DESCRIPTION CONDITION: evaluates CONDITION (a shell expression, in single quotes so that
# it sees the caller's variables when it runs) and prints ok/FAIL with the description.
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }

# expect_exit2 BINARY ARGS...: the binary exits 2 (a usage error) on ARGS, saying why in one line.
expect_exit2() {
  local binary="$1"; shift
  "$binary" "$@" >/dev/null 2>"$TEST_TMPDIR/usage_err"
  local rc=$?
  check "$* exits 2 (got $rc: $(head -1 "$TEST_TMPDIR/usage_err"))" '[ $rc -eq 2 ]'
}
