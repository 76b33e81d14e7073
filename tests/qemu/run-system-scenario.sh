#!/usr/bin/env bash
# Runs the example system's scenario on a bare-metal back-end and checks it as the hosted test
# does: the same script and expected lines (tests/system/scenario.txt, scenario.expected).
#
#   tests/qemu/run-system-scenario.sh [--disk MAKER] RUN-SYSTEM SCRIPT EXPECTED CHECKER LOG
#
# RUN-SYSTEM (build/<target>/run-system) types SCRIPT's lines, then `poweroff`; the test passes
# only if the system powered off normally (run-system exits 0 for QEMU's status 33) and CHECKER
# (scenario_check) finds every EXPECTED line, in order, in the serial log, kept in LOG.
# --disk MAKER: the system boots with a disk, an image made for this run by `MAKER IMG` (a
# command line, e.g. "scripts/make-disk" or a test's own image maker) and removed afterwards.
set -uo pipefail
maker=""
if [ "${1:-}" = --disk ] && [ $# -ge 2 ]; then
  maker=$2
  shift 2
fi
if [ $# -ne 5 ]; then
  echo "usage: $0 [--disk MAKER] RUN-SYSTEM SCRIPT EXPECTED CHECKER LOG" >&2
  exit 2
fi
run_system=$1 script=$2 expected=$3 checker=$4 log=$5
if [ ! -x "$run_system" ]; then
  echo "FAIL: $run_system does not exist; build it first (cmake --build --preset x86_64)" >&2
  exit 1
fi
disk_args=()
if [ -n "$maker" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # The maker is a command line: split into words on purpose.
  # shellcheck disable=SC2086
  if ! $maker "$work/disk.img"; then
    echo "FAIL: cannot make the disk image ($maker)"
    exit 1
  fi
  disk_args=(--disk "$work/disk.img")
fi
"$run_system" "${disk_args[@]}" --script "$script" >"$log" 2>&1
status=$?
failed=0
if [ $status -ne 0 ]; then
  echo "FAIL: the system did not power off normally (run-system status $status)"
  failed=1
fi
"$checker" "$expected" "$log" || failed=1
if [ $failed -ne 0 ]; then
  echo "---- serial output ($log) ----"
  cat "$log"
  echo "----"
  exit 1
fi
exit 0
