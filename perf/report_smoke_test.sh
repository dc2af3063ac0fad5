#!/usr/bin/env bash
# End-to-end checks of //perf:report on two quick parts: a published run holds every part's
# record and a report.md with every section; a second run compares with the first; a run on
# another machine compares with nothing and the fleet view lists both machines; every chart
# renders to PNG with rsvg-convert; --format=csv writes CSV; bad flags exit 2.
set -u
report="$TEST_SRCDIR/$TEST_WORKSPACE/perf/report"
results="$TEST_TMPDIR/results"
source "$TEST_SRCDIR/$TEST_WORKSPACE/common/check.sh"
parts="--parts=peak,matmul_sweep,activation_sweep"

run() {  # run <log name> [flags...]: the report into $results; sets rc and dir (the run folder)
  local log="$TEST_TMPDIR/$1"; shift
  "$report" --quick $parts --results="$results" "$@" >"$log.out" 2>"$log.err"
  rc=$?
  dir="$(sed -n 's/^report: wrote \(.*\)\/report.md$/\1/p' "$log.err" | tail -1)"
}

run first --format=md,json,csv
check "first run exits 0 (stderr: $(tail -5 "$TEST_TMPDIR/first.err"))" '[ $rc -eq 0 ]'
first="$dir"
check "run folder under results/<machine>/runs" '[ -d "$first" ] && [ "$(basename "$(dirname "$first")")" = runs ]'
for f in peak.json.gz peak.md activation_sweep.json.gz activation_sweep.md activation_sweep.csv report.md report.json; do
  check "$f written" '[ -s "$first/$f" ]'
done
for section in "Executive summary" "Hot paths" "Per area" "Models" "Training" "Memory" "Scaling" \
               "Top 10 improvements" "Top 10 regressions" "Root causes" "Recommendations" "Charts"; do
  check "section: $section" 'grep -q "^## $section" "$first/report.md"'
done
check "report.json is JSON" 'python3 -m json.tool "$first/report.json" >/dev/null'
check "first run compares with nothing" 'grep -q "activation_sweep: the first run of its kind on this machine" "$first/report.md"'
check "headline ratio vs libmvec" 'grep -q "best kernel-lab / best peer (libmvec" "$first/report.md"'
check "machine index lists the run" 'grep -q "$(basename "$first")" "$(dirname "$(dirname "$first")")/README.md"'
check "fleet view written" 'grep -q "the fleet" "$results/README.md"'

# Every chart of the run renders (rsvg-convert, from librsvg2-bin: tools/setup.sh installs it).
charts=0
for svg in "$first"/*.svg; do
  png="$TEST_TMPDIR/$(basename "$svg").png"
  rsvg-convert -o "$png" "$svg" 2>"$TEST_TMPDIR/rsvg.err"
  check "$(basename "$svg") renders to PNG ($(head -c 200 "$TEST_TMPDIR/rsvg.err"))" \
    '[ "$(head -c 4 "$png" | od -An -c | tr -d " ")" = "211PNG" ]'
  charts=$((charts + 1))
done
check "charts drawn ($charts)" '[ $charts -ge 3 ]'
check "chart titles name the CPU" 'grep -q "AMD\|Intel\|Xeon\|EPYC\|CPU" "$first"/report_activations_and_norms_vs_peer.svg'

run second
check "second run exits 0" '[ $rc -eq 0 ]'
check "second run compares with the first" 'grep -q "activation_sweep vs $(basename "$first")" "$dir/report.md"'

# The same runs relabelled as another machine's: the next run finds no baseline of its machine.
machine_dir="$(dirname "$(dirname "$first")")"
other="$results/other-cpu-2c"
mkdir -p "$other"
mv "$machine_dir/runs" "$other/runs"
for f in "$other"/runs/*/*.json.gz; do
  gzip -dc "$f" | sed 's/"cpu_model": "[^"]*"/"cpu_model": "Another CPU"/; s/"machine": "[^"]*"/"machine": "other-cpu-2c"/' | gzip >"$f.new" && mv "$f.new" "$f"
done
run third
check "third run exits 0" '[ $rc -eq 0 ]'
check "a run on another machine compares with nothing" 'grep -q "activation_sweep: the first run of its kind on this machine" "$dir/report.md"'
check "fleet view lists both machines" 'grep -q "other-cpu-2c" "$results/README.md" && grep -q "$(basename "$machine_dir")" "$results/README.md"'

# --rerender rebuilds a published run's report from its records, measuring nothing.
moved="$(ls -d "$results"/*/runs/"$(basename "$first")")"  # now under other-cpu-2c
rm "$moved/report.md"
"$report" --results="$results" --rerender="$(basename "$first")" >/dev/null 2>"$TEST_TMPDIR/rerender.err"
check "--rerender exits 0 ($(tail -1 "$TEST_TMPDIR/rerender.err"))" '[ $? -eq 0 ] && grep -q "^## Executive summary" "$moved/report.md"'
expect_exit2 "$report" --results="$results" --rerender=no-such-run

"$report" --help >/dev/null 2>&1
check "--help exits 0" '[ $? -eq 0 ]'
"$report" --budget=-1 --no_publish >/dev/null 2>&1
check "--budget=-1 exits 2" '[ $? -eq 2 ]'
"$report" --parts=nonsense --no_publish >/dev/null 2>&1
check "an unknown part exits 2" '[ $? -eq 2 ]'
exit $fail
