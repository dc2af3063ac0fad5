#!/usr/bin/env bash
# Counts the instructions a program executes, under Valgrind's callgrind: an exact, noise-free
# signal where the machine exposes no hardware counters (a VM), to set beside the timings.
#
#   tools/count_instructions.sh [--exclude-startup] BINARY [ARGS...]
#   bazel build //lab/gemm:gemm_case && tools/count_instructions.sh \
#       bazel-bin/lab/gemm/gemm_case --variant=regblock_6x16__avx2 --m=128 --n=128 --k=128
#
# Prints "instructions: N" (all instructions of the run; compare two runs that differ only in
# the case, e.g. --reps=2 minus --reps=1, to remove start-up). Valgrind 3.19 cannot execute
# AVX-512: run the scalar or AVX2 variants; an AVX-512 variant stops with a clear message.
set -uo pipefail
if [ $# -lt 1 ] || [ "$1" = "--help" ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
command -v valgrind >/dev/null || { echo "count_instructions: valgrind not found (tools/setup.sh installs it)" >&2; exit 1; }
out=$(mktemp)
log=$(mktemp)
trap 'rm -f "$out" "$log"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >"$log" 2>&1
rc=$?
# Valgrind 3.19 neither executes AVX-512 nor reports it in CPUID: a program either dies on the
# instruction or (dispatching at run time, as ours do) finds the CPU without it.
if grep -qi "unrecognised instruction\|unhandled instruction\|SIGILL\|needs avx512" "$log"; then
  echo "count_instructions: under valgrind there is no AVX-512 (valgrind 3.19 does not emulate it); run a scalar or AVX2 variant" >&2
  exit 1
fi
if [ $rc -ne 0 ]; then
  echo "count_instructions: the program failed under valgrind (exit $rc):" >&2
  tail -5 "$log" >&2
  exit 1
fi
total=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
[ -n "$total" ] || { echo "count_instructions: no total in callgrind's output" >&2; exit 1; }
echo "instructions: $total"
