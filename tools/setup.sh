#!/usr/bin/env bash
# Installs every Debian package that Kernel Lab's build, tests and suites need. Idempotent: a
# machine that has them all is left alone. Runs `apt-get update` only when a package it must
# install is unknown to apt's current lists (or there are no lists). Prints what it installed.
#
#   tools/setup.sh            install what is missing (as root, or through sudo)
#   tools/setup.sh --check    only report what is missing; exit 1 if anything is
set -euo pipefail

packages=(
  bazel-bootstrap        # Bazel 4.2.3, offline
  default-jdk-headless   # Bazel's Java runtime
  g++ git pkg-config
  libgtest-dev           # tests
  libbenchmark-dev       # micro-benchmarks
  libabsl-dev            # flags, status, strings, time
  libhwloc-dev hwloc     # topology and pinning
  libpfm4-dev            # hardware event encodings
  nlohmann-json3-dev     # results files
  libopenblas-dev        # peer: OpenBLAS (pthreads build)
  libblis-dev            # peer: BLIS
  libdnnl-dev            # peer: oneDNN
  libxsmm-dev            # peer: libxsmm (static; perf/xsmm_shim.cc makes it a shared object)
  valgrind               # instruction counts (tools/count_instructions.sh)
  python3-torch          # model_bench's PyTorch peer (perf/pytorch_peer.py)
  clang-14               # --config=fuzz (fuzz/README.md)
  libclang-rt-14-dev     # libFuzzer and clang's sanitizer runtimes
  librsvg2-bin           # rsvg-convert: look at the SVG charts as PNG
)

say() { printf 'setup.sh: %s\n' "$*"; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian 12 (bookworm) and its apt."

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  say "all ${#packages[@]} packages are installed; nothing to do."
  exit 0
fi

if [ "${1:-}" = "--check" ]; then
  say "missing: ${missing[*]}"
  exit 1
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  die "installing packages needs root (run as root, or with password-less sudo). Missing: ${missing[*]}"
fi

# apt-get update only when needed: no package lists at all, or a missing package apt cannot see.
need_update=0
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  need_update=1
else
  for p in "${missing[@]}"; do
    if ! apt-cache show "$p" >/dev/null 2>&1; then need_update=1; break; fi
  done
fi
if [ $need_update -eq 1 ]; then
  say "running apt-get update ..."
  "${as_root[@]}" apt-get update -qq || die "apt-get update failed"
fi

say "installing: ${missing[*]}"
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/tmp/kernel-lab-setup.log 2>&1 ||
  { tail -20 /tmp/kernel-lab-setup.log >&2; die "apt-get install failed (log: /tmp/kernel-lab-setup.log)"; }

still=()
for p in "${missing[@]}"; do installed "$p" || still+=("$p"); done
[ ${#still[@]} -eq 0 ] || die "still missing after install: ${still[*]}"
say "installed: ${missing[*]}"
