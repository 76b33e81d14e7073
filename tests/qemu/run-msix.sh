#!/usr/bin/env bash
# MSI-X end to end: makes a 1 MiB raw disk image whose sector 0 holds a known pattern (byte i is
# (i * 7 + 3) & 0xff, what targets/common/user/msix_root.cpp checks), then runs
# tests/qemu/run-qemu.sh with the same arguments plus that image as a modern-only (virtio 1.x)
# virtio-blk-pci function.
#
#   tests/qemu/run-msix.sh ARCH [run-qemu.sh options]... TIMEOUT IMAGE [EXPECTED-LINE]...
set -euo pipefail
arch=$1
shift
log_dir=${QEMU_LOG_DIR:-.}
mkdir -p "$log_dir"
disk="$log_dir/msix-virtio-blk.disk.img"
python3 - "$disk" <<'PY'
import sys
sector = bytes((i * 7 + 3) & 0xff for i in range(512))
with open(sys.argv[1], "wb") as f:
    f.write(sector + bytes(1024 * 1024 - 512))
PY
exec "$(dirname "$0")/run-qemu.sh" "$arch" \
  --qemu-arg -drive --qemu-arg "file=$disk,format=raw,if=none,id=d0" \
  --qemu-arg -device --qemu-arg virtio-blk-pci,drive=d0,disable-legacy=on \
  "$@"
