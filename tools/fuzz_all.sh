#!/usr/bin/env bash
# Runs every fuzz target (fuzz/README.md) for SECONDS each on a scratch copy of its seeds, and
# prints one line per target: executions, coverage (edges) and features, and findings.
#
#   tools/fuzz_all.sh [SECONDS=60] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(llama_loader_fuzzer gpt2_loader_fuzzer tokenizer_fuzzer \
  record_fuzzer flags_fuzzer)
bazel build --config=fuzz //fuzz:all >/dev/null 2>&1 || { echo "fuzz_all: the build failed"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
total=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus" "$work/$t/findings"
  cp fuzz/corpus/"$t"/* "$work/$t/corpus/"
  [ "$t" = llama_loader_fuzzer ] && cp models/data/stories260K.bin "$work/$t/corpus/"
  (cd "$work/$t/findings" && "$OLDPWD/bazel-fuzz-bin/fuzz/$t" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 "$work/$t/corpus" >"$work/$t/log" 2>&1)
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t/log" | grep -o '[0-9]*$')
  cov=$(grep -E '^#[0-9]+' "$work/$t/log" | tail -1 | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
  ft=$(grep -E '^#[0-9]+' "$work/$t/log" | tail -1 | grep -o 'ft: [0-9]*' | grep -o '[0-9]*')
  findings=$(ls "$work/$t/findings" | wc -l)
  total=$((total + ${runs:-0}))
  printf '%-22s %12s executions  cov %6s  ft %7s  findings %s\n' "$t" "${runs:-?}" "${cov:-?}" \
    "${ft:-?}" "$findings"
  if [ "$findings" -ne 0 ]; then
    status=1
    mkdir -p fuzz_findings && cp "$work/$t/findings"/* fuzz_findings/
    echo "  saved to fuzz_findings/; the log's end:"; tail -20 "$work/$t/log" | sed 's/^/  /'
  fi
done
echo "total: $total executions"
exit $status
