#!/usr/bin/env bash
# Boots a ukernel AArch64 image in QEMU (-M virt) and checks how it ended; the AArch64 twin of
# run-qemu.sh, with the same arguments and verdicts.
#
#   tests/qemu/run-qemu-aarch64.sh [--status N] [--cpu MODEL] [--qemu-arg ARG]... TIMEOUT IMAGE
#                                  [EXPECTED-LINE]...
#
# Passes when QEMU's exit status is N (default 33: the image ended with semihosting SYS_EXIT and
# ExitCode::kSuccess) and every EXPECTED-LINE occurs as a substring of some line of serial
# output. Fails on anything else: status 0 (PSCI SYSTEM_OFF or a reset under -no-reboot), 35 (the
# scenario reported a failure), 65 (kernel panic), 124/137 (TIMEOUT seconds passed), a missing
# image. --cpu replaces the default cortex-a57 (e.g. max). The serial log is printed on failure
# and kept in $QEMU_LOG_DIR (default: the image's directory) as IMAGE[.MODEL].serial.log.
#
# QEMU runs with TCG and -icount, so that a run executes the same instructions every time.
set -uo pipefail

expected_status=33
cpu=cortex-a57
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --status) expected_status=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --qemu-arg) extra+=("$2"); shift 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ]; then
  echo "usage: $0 [--status N] [--cpu MODEL] [--qemu-arg ARG]... TIMEOUT IMAGE [EXPECTED-LINE]..." >&2
  exit 2
fi
timeout_seconds=$1
image=$2
shift 2

if [ ! -f "$image" ]; then
  echo "FAIL: image $image does not exist; build it first: cmake --preset aarch64 && cmake --build --preset aarch64" >&2
  exit 1
fi
qemu=${QEMU:-qemu-system-aarch64}
if ! command -v "$qemu" >/dev/null; then
  echo "FAIL: $qemu not found (Debian package qemu-system-arm)" >&2
  exit 1
fi

log_dir=${QEMU_LOG_DIR:-$(dirname "$image")}
mkdir -p "$log_dir"
suffix=""
[ "$cpu" = cortex-a57 ] || suffix=".$cpu"  # runs of one image on two CPUs may be concurrent
log="$log_dir/$(basename "$image" .elf)$suffix.serial.log"

timeout -k 5 "$timeout_seconds" "$qemu" \
  -machine virt -cpu "$cpu" -accel tcg -icount shift=0,align=off,sleep=off -m 128M \
  -nic none -nographic -monitor none -serial stdio -no-reboot -semihosting \
  -kernel "$image" "${extra[@]}" </dev/null >"$log" 2>&1
status=$?

failed=0
case $status in
  "$expected_status") ;;
  124 | 137) echo "FAIL: no exit within ${timeout_seconds}s (status $status)"; failed=1 ;;
  0) echo "FAIL: QEMU exited with 0: a power-off or a reset (never success)"; failed=1 ;;
  35) echo "FAIL: the scenario reported a failure (status 35)"; failed=1 ;;
  65) echo "FAIL: kernel panic (status 65)"; failed=1 ;;
  *) echo "FAIL: QEMU exit status $status, expected $expected_status"; failed=1 ;;
esac
for line in "$@"; do
  if ! grep -qF -- "$line" "$log"; then
    echo "FAIL: expected output missing: $line"
    failed=1
  fi
done

if [ $failed -ne 0 ]; then
  echo "---- serial output of $image ($log) ----"
  cat "$log"
  echo "----"
  exit 1
fi
echo "PASS: $(basename "$image") exited with status $status; ${#} expected lines found"
exit 0
