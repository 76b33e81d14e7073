#!/usr/bin/env bash
# Boots a ukernel bare-metal image in QEMU and checks how it ended; one runner for every
# architecture.
#
#   tests/qemu/run-qemu.sh ARCH [--status N] [--cpu MODEL] [--qemu-arg ARG]... [--printed LINE]...
#                          TIMEOUT IMAGE [EXPECTED-LINE]...
#
# ARCH is x86_64 (-machine q35; the image leaves QEMU through isa-debug-exit) or aarch64
# (-machine virt, cortex-a57 unless --cpu says otherwise; the image leaves QEMU through
# semihosting SYS_EXIT). Passes when QEMU's exit status is N (default 33: the image exited with
# ExitCode::kSuccess) and the EXPECTED-LINEs occur in the serial output in their order, each
# as a substring of a line after the previous one's. Each --printed LINE (what the image prints on
# every boot whether anything works or not: a banner, "fast path on") must occur somewhere too,
# but is not counted as a check in the PASS line. Fails on anything else: status 0 (never success: a triple fault, a reset or a power-off
# under -no-reboot), 35 (the scenario reported a failure), 65 (kernel panic), 124/137 (TIMEOUT
# seconds passed), a missing image. --cpu MODEL picks QEMU's CPU (e.g. max). The serial log is
# printed on failure and kept in $QEMU_LOG_DIR (default: the image's directory) as
# IMAGE[.MODEL].serial.log, so runs of one image on two CPUs may be concurrent.
#
# QEMU runs with TCG (this host's KVM mis-emulates ring-3 syscall) and -icount, so that a run
# executes the same instructions every time.
set -uo pipefail

usage="usage: $0 x86_64|aarch64 [--status N] [--cpu MODEL] [--qemu-arg ARG]... [--printed LINE]... TIMEOUT IMAGE [EXPECTED-LINE]..."
arch=${1:-}
shift || true
case $arch in
  x86_64)
    qemu=${QEMU:-qemu-system-x86_64}
    package=qemu-system-x86
    default_cpu=""
    machine=(-machine q35)
    exit_device=(-device isa-debug-exit,iobase=0xf4,iosize=0x04)
    ;;
  aarch64)
    qemu=${QEMU:-qemu-system-aarch64}
    package=qemu-system-arm
    default_cpu=cortex-a57
    machine=(-machine virt)
    exit_device=(-semihosting)
    ;;
  *) echo "$usage" >&2; exit 2 ;;
esac

expected_status=33
cpu=$default_cpu
extra=()
printed=()
while [ $# -gt 0 ]; do
  case "$1" in
    --status) expected_status=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --qemu-arg) extra+=("$2"); shift 2 ;;
    --printed) printed+=("$2"); shift 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ]; then
  echo "$usage" >&2
  exit 2
fi
timeout_seconds=$1
image=$2
shift 2

if [ ! -f "$image" ]; then
  echo "FAIL: image $image does not exist; build it first: cmake --preset $arch && cmake --build --preset $arch" >&2
  exit 1
fi
if ! command -v "$qemu" >/dev/null; then
  echo "FAIL: $qemu not found (Debian package $package)" >&2
  exit 1
fi

cpu_args=()
suffix=""
[ -z "$cpu" ] || cpu_args=(-cpu "$cpu")
[ "$cpu" = "$default_cpu" ] || suffix=".$cpu"
log_dir=${QEMU_LOG_DIR:-$(dirname "$image")}
mkdir -p "$log_dir"
log="$log_dir/$(basename "$image" .elf)$suffix.serial.log"

timeout -k 5 "$timeout_seconds" "$qemu" \
  "${machine[@]}" "${cpu_args[@]}" -accel tcg -icount shift=0,align=off,sleep=off -m 128M \
  -nic none -nographic -monitor none -serial stdio -no-reboot "${exit_device[@]}" \
  -kernel "$image" "${extra[@]}" </dev/null >"$log" 2>&1
status=$?

failed=0
case $status in
  "$expected_status") ;;
  124 | 137) echo "FAIL: no exit within ${timeout_seconds}s (status $status)"; failed=1 ;;
  0) echo "FAIL: QEMU exited with 0: a triple fault, a reset or a power-off (never success)"; failed=1 ;;
  35) echo "FAIL: the scenario reported a failure (status 35)"; failed=1 ;;
  65) echo "FAIL: kernel panic (status 65)"; failed=1 ;;
  *) echo "FAIL: QEMU exit status $status, expected $expected_status"; failed=1 ;;
esac
for line in "${printed[@]}"; do
  if ! grep -qF -- "$line" "$log"; then
    echo "FAIL: a line every boot prints is missing: $line"
    failed=1
  fi
done
# The expected lines in order: each must be in a line after the one that matched the previous.
if [ $# -gt 0 ]; then
  missing=$(printf '%s\n' "$@" | awk '
    NR == FNR { want[n++] = $0; next }
    at < n && index($0, want[at]) > 0 { at++ }
    END { if (at < n) print want[at] }' - "$log")
  if [ -n "$missing" ]; then
    echo "FAIL: expected output missing (or out of order): $missing"
    failed=1
  fi
fi

if [ $failed -ne 0 ]; then
  echo "---- serial output of $image ($log) ----"
  cat "$log"
  echo "----"
  exit 1
fi
echo "PASS: $(basename "$image") exited with status $status; ${#} checks found in order" \
  "(and ${#printed[@]} lines every boot prints)"
exit 0
