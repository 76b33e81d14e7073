#!/usr/bin/env bash
# The regression guard of the bare-metal figures:
#
#   benchmarks/check-baseline.sh ARCH RUN_BENCH BASELINE
#
# runs RUN_BENCH (build/ARCH/run-bench: the benchmark images under TCG -icount) and compares
# every figure it prints with the line of the same name in BASELINE (benchmarks/baseline.txt).
# Fails when a figure is more than 1% above its baseline (a regression) or more than 1% below it
# (an improvement whose baseline was not lowered with it: "within 1%" needs no history, so it
# holds on a fresh clone), when a baseline figure of ARCH was not measured, and when a measured
# figure has no baseline (a new figure joins the guard when it is added).
set -uo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 ARCH RUN_BENCH BASELINE" >&2
  exit 2
fi
arch=$1 run_bench=$2 baseline=$3
[ -x "$run_bench" ] || { echo "FAIL: $run_bench missing (build the $arch preset first)" >&2; exit 1; }
[ -r "$baseline" ] || { echo "FAIL: $baseline missing" >&2; exit 1; }
measured=$(mktemp)
trap 'rm -f "$measured"' EXIT
"$run_bench" >"$measured" || { echo "FAIL: $run_bench failed" >&2; exit 1; }

awk -v arch="$arch" '
  # The baseline: NAME VALUE lines of this architecture; # starts a comment.
  FNR == NR {
    if ($0 ~ /^[[:space:]]*(#|$)/) next
    if (index($1, arch ".") != 1) next
    if (NF != 2 || $2 !~ /^[0-9]+$/ || $2 == 0) { printf "FAIL: bad baseline line: %s\n", $0; bad = 1; next }
    base[$1] = $2
    next
  }
  # The measurement: NAME VALUE insns.
  {
    if (!($1 in base)) { printf "FAIL: %s %s has no baseline line\n", $1, $2; bad = 1; next }
    seen[$1] = 1
    delta = $2 - base[$1]
    if (delta * 100 > base[$1]) {
      printf "FAIL: %s rose to %s from its baseline %s (more than 1%%)\n", $1, $2, base[$1]; bad = 1
    } else if (-delta * 100 > base[$1]) {
      printf "FAIL: %s dropped to %s from its baseline %s: lower the baseline in this commit\n", $1, $2, base[$1]; bad = 1
    } else {
      printf "ok: %s %s (baseline %s)\n", $1, $2, base[$1]
    }
  }
  END {
    for (name in base) if (!(name in seen)) { printf "FAIL: %s was not measured\n", name; bad = 1 }
    if (length(base) == 0) { print "FAIL: no baseline for " arch; bad = 1 }
    exit bad
  }
' "$baseline" "$measured"
