#!/usr/bin/env bash
# //tools:compare on a fixture results tree: the default pairing (newest run vs the previous run
# of its suite on the same kind of machine), report.md written into the run, a slowed row called
# slower, an unchanged one noise, --fail_on_regression exiting 3, runs of another machine never
# compared, and clear errors.
set -u
compare="$TEST_SRCDIR/$TEST_WORKSPACE/tools/compare"
root="$TEST_TMPDIR/results"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"

run() {  # run <id> <host> <median of row a> <median of row b>
  mkdir -p "$root/runs/$1"
  local a=$3 b=$4
  samples() { local m=$1 s=""; for d in -4 -3 -2 -1 0 1 2 3 4 -2 2; do s="$s,$((m + d))"; done; echo "[${s#,}]"; }
  cat >"$root/runs/$1/matmul_sweep.json" <<JSON
{"schema": "kernel-lab/results/v1", "suite": "matmul_sweep", "run_id": "$1",
 "env": {"host": "vm", "cpu_model": "$2", "cores": 2, "caches": {"l2": 1048576}, "isa": ["avx2"]},
 "rows": [
  {"name": "sgemm/a/t1", "op": "sgemm", "time_ns": {"median": $a}, "samples_ns": $(samples "$a")},
  {"name": "sgemm/b/t1", "op": "sgemm", "time_ns": {"median": $b}, "samples_ns": $(samples "$b")}
 ]}
JSON
}
run 20260101-000000-vm-a "cpu A" 1000 1000
run 20260102-000000-vm-b "cpu B" 500 500   # the same host name, another CPU
run 20260103-000000-vm-c "cpu A" 1300 1001

"$compare" --results="$root" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err"
rc=$?
check "exits 0 ($(tail -1 "$TEST_TMPDIR/err"))" '[ $rc -eq 0 ]'
check "newest run vs the previous on the same machine, not the newest on the same host" \
  'grep -q "20260103-000000-vm-c vs 20260101-000000-vm-a" "$TEST_TMPDIR/out"'
check "the slowed row is slower" 'grep "sgemm/a/t1" "$TEST_TMPDIR/out" | grep -q "slower"'
check "the unchanged row is noise" 'grep "sgemm/b/t1" "$TEST_TMPDIR/out" | grep -q "noise"'
check "report.md written" '[ -s "$root/runs/20260103-000000-vm-c/report.md" ]'
check "report_changes.svg written" 'grep -q "<svg" "$root/runs/20260103-000000-vm-c/report_changes.svg"'

"$compare" --results="$root" --fail_on_regression --write=false >/dev/null 2>&1
check "--fail_on_regression exits 3 on a regression" '[ $? -eq 3 ]'
"$compare" --results="$root" --baseline=20260102-000000-vm-b 20260103-000000-vm-c \
  --write=false >"$TEST_TMPDIR/out2" 2>/dev/null
rc=$?
check "an explicit baseline of another machine: nothing called faster or slower, exit 0" \
  '[ $rc -eq 0 ] && grep -q "ran on different machines" "$TEST_TMPDIR/out2" && ! grep -q "slower |" "$TEST_TMPDIR/out2"'
"$compare" --results="$root" --baseline=20260102-000000-vm-b 20260103-000000-vm-c \
  --write=false --fail_on_regression >/dev/null 2>&1
check "... and the gate cannot pass on it: exit 1" '[ $? -eq 1 ]'
"$compare" --results="$root" 20260101-000000-vm-a --write=false >"$TEST_TMPDIR/out3" 2>/dev/null
check "the first run: nothing to compare, exit 0" '[ $? -eq 0 ] && grep -q "nothing to compare" "$TEST_TMPDIR/out3"'
"$compare" --results="$root" 20990101-000000-vm-z >/dev/null 2>"$TEST_TMPDIR/err4"
check "an unknown run exits 1" '[ $? -eq 1 ] && grep -q "no run" "$TEST_TMPDIR/err4"'
"$compare" --results="$root" --threshold=-1 >/dev/null 2>&1
check "a bad threshold exits 2" '[ $? -eq 2 ]'
# Issue 13: a path is not a run id (it wrote report.md outside results/).
mkdir -p "$TEST_TMPDIR/outside"
"$compare" --results="$root" ../../outside >/dev/null 2>"$TEST_TMPDIR/err5"
check "a path as run id exits 2" '[ $? -eq 2 ] && grep -q "is not a run id" "$TEST_TMPDIR/err5"'
check "nothing written outside results/" '[ ! -e "$TEST_TMPDIR/outside/report.md" ]'
# A gate that compared no row fails instead of passing.
mkdir -p "$root/runs/20260104-000000-vm-d"
cat >"$root/runs/20260104-000000-vm-d/matmul_sweep.json" <<JSON
{"schema": "kernel-lab/results/v1", "suite": "matmul_sweep", "run_id": "20260104-000000-vm-d",
 "command": "bazel run //perf:matmul_sweep", "env": {"host": "vm", "cpu_model": "cpu A", "cores": 2, "caches": {"l2": 1048576}, "isa": ["avx2"]},
 "rows": [{"name": "other/row", "op": "x", "time_ns": {"median": 5}, "samples_ns": [5, 5, 5]}]}
JSON
"$compare" --results="$root" --baseline=20260103-000000-vm-c 20260104-000000-vm-d \
  --fail_on_regression --write=false >/dev/null 2>"$TEST_TMPDIR/err6"
check "--fail_on_regression with no comparable row exits 1" \
  '[ $? -eq 1 ] && grep -q "no row" "$TEST_TMPDIR/err6"'
# A damaged record is refused with its field named, not an uncaught exception (exit 134).
mkdir -p "$root/runs/20260105-000000-vm-e"
echo '{"schema": "s", "suite": "matmul_sweep", "run_id": "e", "env": "vm"}' \
  >"$root/runs/20260105-000000-vm-e/matmul_sweep.json"
"$compare" --results="$root" 20260105-000000-vm-e >/dev/null 2>"$TEST_TMPDIR/err7"
check "a wrong-typed env exits 1 naming it" '[ $? -eq 1 ] && grep -q "env should be an object" "$TEST_TMPDIR/err7"'
exit $fail
