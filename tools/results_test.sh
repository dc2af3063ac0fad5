#!/usr/bin/env bash
# //tools:results on fixture trees: migrate moves runs of the old layout into one folder per
# machine (records gzipped, keyed by mode, the old index texts kept, latest/ and the fleet view
# written); prune keeps each machine's newest N runs and every run a kept report cites; a relative
# --results is taken from where `bazel run` started; bad commands and flags exit 2.
set -u
tool="$TEST_SRCDIR/$TEST_WORKSPACE/tools/results"
root="$TEST_TMPDIR/results"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"

legacy() {  # legacy <id> <cpu model> <l2 bytes> [command]
  mkdir -p "$root/runs/$1"
  cat >"$root/runs/$1/matmul_sweep.json" <<JSON
{"schema": "kernel-lab/results/v1", "suite": "matmul_sweep", "run_id": "$1", "command": "${4:-bazel run //perf:matmul_sweep}",
 "env": {"host": "vm", "cpu_model": "$2", "cores": 2, "caches": {"l2": $3}, "isa": ["avx2", "avx512f"]},
 "rows": [{"name": "sgemm/a/t1", "op": "sgemm", "time_ns": {"median": 1000}, "samples_ns": [999, 1000, 1001]}]}
JSON
  echo "# $1" >"$root/runs/$1/matmul_sweep.md"
}
mkdir -p "$root/matmul_sweep"
echo "old" >"$root/matmul_sweep/latest.md"
legacy 20260101-000000-vm-a "AMD EPYC 9R14" 1048576
legacy 20260102-000000-vm-b "Intel(R) Xeon(R) Processor" 2097152 "bazel run //perf:matmul_sweep -- --shapes=transformer"
printf '# Published results\n\n<!-- runs: newest first -->\n- [20260102-000000-vm-b](runs/20260102-000000-vm-b/matmul_sweep.md) — text of b\n- [20260101-000000-vm-a](runs/20260101-000000-vm-a/matmul_sweep.md) — text of a\n' >"$root/README.md"

"$tool" --results="$root" migrate --dry_run >"$TEST_TMPDIR/dry" 2>&1
check "--dry_run moves nothing" '[ -d "$root/runs/20260101-000000-vm-a" ]'
"$tool" --results="$root" migrate >"$TEST_TMPDIR/out" 2>&1
check "migrate exits 0 ($(tail -2 "$TEST_TMPDIR/out"))" '[ $? -eq 0 ]'
check "no old runs/ left" '[ ! -d "$root/runs" ] && [ ! -d "$root/matmul_sweep" ]'
a="$(ls -d "$root"/*/runs/20260101-000000-vm-a)"
b="$(ls -d "$root"/*/runs/20260102-000000-vm-b)"
check "two machine folders" '[ "$(dirname "$(dirname "$a")")" != "$(dirname "$(dirname "$b")")" ]'
check "record gzipped" '[ -s "$a/matmul_sweep.json.gz" ] && [ ! -e "$a/matmul_sweep.json" ]'
check "transformer run keyed by its mode" '[ -s "$b/matmul_sweep-transformer.json.gz" ] && [ -s "$b/matmul_sweep-transformer.md" ]'
check "mode written into the record" 'gzip -dc "$b/matmul_sweep-transformer.json.gz" | grep -q "\"mode\": \"transformer\""'
check "machine index keeps the old text" 'grep -q "text of a" "$(dirname "$(dirname "$a")")/README.md"'
check "latest per machine" '[ -s "$(dirname "$(dirname "$a")")/latest/matmul_sweep.md" ]'
check "fleet view" 'grep -q "the fleet" "$root/README.md"'

# prune: five runs of one machine; the newest report cites the oldest.
m="$(dirname "$(dirname "$a")")/runs"
for d in 2 3 4 5; do
  cp -r "$a" "$m/2026010${d}-000000-vm-a"
done
echo "compared with 20260101-000000-vm-a" >"$m/20260105-000000-vm-a/report.md"
"$tool" --results="$root" prune --keep=2 --dry_run >/dev/null 2>&1
check "prune --dry_run removes nothing" '[ "$(ls "$m" | wc -l)" -eq 5 ]'
"$tool" --results="$root" prune --keep=2 >"$TEST_TMPDIR/prune" 2>&1
check "prune exits 0" '[ $? -eq 0 ]'
check "newest two and the cited run kept, the rest removed" \
  '[ "$(ls "$m" | tr "\n" " ")" = "20260101-000000-vm-a 20260104-000000-vm-a 20260105-000000-vm-a " ]'
check "other machine untouched" '[ -d "$b" ]'
check "index no longer lists a removed run" '! grep -q "20260102-000000-vm-a\|20260103-000000-vm-a" "$(dirname "$m")/README.md"'

# A relative --results is taken from where `bazel run` started (BUILD_WORKING_DIRECTORY).
mkdir -p "$TEST_TMPDIR/wd"
cp -r "$root" "$TEST_TMPDIR/wd/rel"
BUILD_WORKING_DIRECTORY="$TEST_TMPDIR/wd" "$tool" --results=rel index >/dev/null 2>&1
check "relative --results from BUILD_WORKING_DIRECTORY" '[ $? -eq 0 ]'

expect_exit2 "$tool" --results="$root" frobnicate
expect_exit2 "$tool" --results="$root" prune --keep=0
expect_exit2 "$tool" --results="$root"
"$tool" --help >/dev/null 2>&1
check "--help exits 0" '[ $? -eq 0 ]'
exit $fail
