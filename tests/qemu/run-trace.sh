#!/usr/bin/env bash
# The bare-metal kernel trace end to end (docs/tracing.md):
#
#   tests/qemu/run-trace.sh ARCH IMAGE CONVERTER CHECKER OUT_DIR [CHECKER-OPTION]...
#
# boots IMAGE (a trace build, e.g. kernel-scenarios-trace.elf) with tests/qemu/run-qemu.sh; the
# kernel dumps its trace ring at power-off through the second channel (x86-64: QEMU's debug
# console, port 0xe9; AArch64: semihosting, which QEMU sends to a file here) into
# OUT_DIR/ARCH.trace.txt; CONVERTER (ukernel-trace-json) turns it into OUT_DIR/ARCH.trace.json and
# CHECKER (scripts/check-trace-json) checks the JSON's structure with the CHECKER-OPTIONs.
set -uo pipefail
if [ $# -lt 5 ]; then
  echo "usage: $0 ARCH IMAGE CONVERTER CHECKER OUT_DIR [CHECKER-OPTION]..." >&2
  exit 2
fi
arch=$1 image=$2 converter=$3 checker=$4 out=$5
shift 5
mkdir -p "$out"
dump="$out/$arch.trace.txt"
json="$out/$arch.trace.json"
rm -f "$dump" "$json"
case $arch in
  x86_64) channel=(--qemu-arg -debugcon --qemu-arg "file:$dump") ;;
  aarch64)
    channel=(--qemu-arg -semihosting-config --qemu-arg "enable=on,target=native,chardev=trace"
             --qemu-arg -chardev --qemu-arg "file,id=trace,path=$dump") ;;
  *) echo "$0: unknown architecture $arch" >&2; exit 2 ;;
esac
QEMU_LOG_DIR="$out" "$(dirname "$0")/run-qemu.sh" "$arch" "${channel[@]}" 50 "$image" || exit 1
[ -s "$dump" ] || { echo "FAIL: the image dumped no trace into $dump" >&2; exit 1; }
"$converter" "$dump" "$json" || exit 1
"$checker" "$json" "$@" || exit 1
echo "PASS: $(wc -l <"$dump") trace records from $(basename "$image") -> $json"
