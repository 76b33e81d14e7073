#!/usr/bin/env python3
"""The x86-64 file-system figures (issue 9), printed by scripts/bench as "NAME VALUE UNIT".

    benchmarks/fs_qemu.py SYSTEM-IMAGE [--runs N] [--keep DIR]

Boots the example system (build/x86_64/targets/x86_64/example-system/example-system.elf) in
QEMU (TCG, q35) with a FAT32 image on virtio-blk, types shell commands at the serial console
and reads the answers:

  x86_64.tcg.fs.write_insns_per_kib, x86_64.tcg.fs.read_insns_per_kib
      `bench fswrite 1M` then `bench fsread 1M` on a fresh 64 MiB volume, under
      -icount shift=0,align=off,sleep=off: the TSC advances one tick per guest instruction while
      the guest runs, and the shell subtracts the ticks the kernel spent halted (waiting for
      QEMU's disk I/O, during which the clock jumps), so what is left are the instructions of
      everything the system ran between the open and the close: shell, fs server, block
      driver, kernel, timer and supervisor. Run N times (default 2) on fresh images; the
      figures of every run are shown on stderr, and the script fails if two runs differ by more
      than 2%.
  x86_64.tcg.fs.read_64mib_qemu_cpu_s
      plain TCG (no -icount): `bench fsread 64M` of a 64 MiB file that mcopy put on the volume;
      the QEMU process's user + system CPU time (/proc/PID/stat, all its threads) from just
      before the command is typed to the shell's next prompt. Linux 6.1 (vfat, virtio-blk,
      dd) in the same QEMU: 0.65-0.68 s (issue 9).

Each boot has a hard timeout (120 s) and must end in the system's power-off (QEMU status 33).
"""
import argparse
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 120
PROMPT = b"uk> "
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def fail(text):
    print(f"fs_qemu: {text}", file=sys.stderr)
    sys.exit(1)


def make_volume(path, size_mib, bench_bytes=0):
    subprocess.run(["truncate", "-s", f"{size_mib}M", path], check=True)
    subprocess.run(["mkfs.fat", "-F", "32", "-n", "UKBENCH", path], check=True,
                   stdout=subprocess.DEVNULL)
    if bench_bytes:
        data = path + ".data"
        with open(data, "wb") as f:  # a fixed pattern that is not sparse on the host
            block = bytes((i * 7 + i // 4096) & 0xFF for i in range(1 << 16))
            for _ in range(bench_bytes // len(block)):
                f.write(block)
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        subprocess.run(["mcopy", "-i", path, data, "::/bench.dat"], check=True, env=env)
        os.unlink(data)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


class Guest:
    """QEMU with the system image, its serial console on pipes."""

    def __init__(self, image, disk, icount, log_path):
        qemu = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", "128M",
                "-nic", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-kernel", image, "-drive", f"file={disk},format=raw,if=none,id=d0",
                "-device", "virtio-blk-pci,drive=d0,disable-legacy=on",
                "-display", "none", "-monitor", "none", "-serial", "stdio"]
        if icount:
            qemu[5:5] = ["-icount", "shift=0,align=off,sleep=on"]
            # The host's fsync would keep the guest halted for milliseconds per flush, in which
            # the supervisor's 10 ms tick runs a varying number of times: flushes still reach
            # QEMU (and cost the guest the same instructions), the host skips the fsync.
            qemu[qemu.index(f"file={disk},format=raw,if=none,id=d0")] += ",cache=unsafe"
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(qemu, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.deadline = time.monotonic() + TIMEOUT_S
        self.text = b""

    def wait_for(self, pattern):
        """Reads the console until `pattern` (bytes) appears after what was read so far."""
        start = len(self.text)
        while self.text.find(pattern, start) < 0:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.kill()
                fail(f"no {pattern!r} within {TIMEOUT_S} s (log: {self.log.name})")
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    fail(f"QEMU ended (status {self.proc.wait()}) before {pattern!r} "
                         f"(log: {self.log.name})")
                self.text += chunk
                self.log.write(chunk)
                self.log.flush()
        return self.text[start:]

    def run(self, command):
        """Types `command`; returns (its output, QEMU's CPU seconds from typing to the prompt)."""
        before = cpu_seconds(self.proc.pid)
        self.proc.stdin.write(command.encode() + b"\r")
        self.proc.stdin.flush()
        answer = self.wait_for(PROMPT)
        return answer.decode(errors="replace"), cpu_seconds(self.proc.pid) - before

    def power_off(self):
        self.proc.stdin.write(b"poweroff\r")
        self.proc.stdin.flush()
        try:
            status = self.proc.wait(timeout=max(1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.kill()
            fail(f"no power-off within {TIMEOUT_S} s (log: {self.log.name})")
        if status != 33:  # 0 is a triple fault or reset, never success
            fail(f"QEMU ended with status {status}, not the power-off's 33 (log: {self.log.name})")

    def kill(self):
        self.proc.kill()
        self.proc.wait()


def figure(answer, name):
    m = re.search(rf"bench: {name} (\d+)", answer)
    if not m:
        fail(f"no '{name}' in the answer:\n{answer}")
    return int(m.group(1))


def boot(image, disk, icount, log):
    guest = Guest(image, disk, icount, log)
    guest.wait_for(PROMPT)
    return guest


def insns_run(image, work, run):
    disk = os.path.join(work, f"icount-{run}.img")
    make_volume(disk, 64)
    guest = boot(image, disk, True, os.path.join(work, f"icount-{run}.log"))
    write, _ = guest.run("bench fswrite 1M")
    read, _ = guest.run("bench fsread 1M")
    guest.power_off()
    return figure(write, "fs_write_ticks_per_kib"), figure(read, "fs_read_ticks_per_kib")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("image")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep", help="keep images and serial logs in this directory")
    args = parser.parse_args()
    if not os.path.exists(args.image):
        fail(f"{args.image} does not exist: build the x86_64 preset first")
    os.environ["PATH"] += ":/usr/sbin:/sbin"
    work = args.keep or tempfile.mkdtemp(prefix="fs_qemu.")
    os.makedirs(work, exist_ok=True)
    try:
        runs = [insns_run(args.image, work, i) for i in range(args.runs)]
        for i, (w, r) in enumerate(runs):
            print(f"fs_qemu: -icount run {i + 1}: write {w}, read {r} insns/KiB", file=sys.stderr)
        for k, name in ((0, "write"), (1, "read")):
            low, high = min(r[k] for r in runs), max(r[k] for r in runs)
            spread = (high - low) / low * 100 if low else 0.0
            print(f"fs_qemu: {name}: runs differ by {spread:.2f}%", file=sys.stderr)
            if spread > 2.0:
                fail(f"{name}: runs differ by {spread:.2f}% (more than 2%)")
        print(f"x86_64.tcg.fs.read_insns_per_kib {runs[0][1]} insns")
        print(f"x86_64.tcg.fs.write_insns_per_kib {runs[0][0]} insns")

        disk = os.path.join(work, "read64.img")
        make_volume(disk, 160, 64 << 20)
        guest = boot(args.image, disk, False, os.path.join(work, "read64.log"))
        answer, cpu = guest.run("bench fsread 64M")
        if "bench: fs_read_ticks_per_kib" not in answer:
            fail(f"bench fsread 64M failed:\n{answer}")
        guest.power_off()
        print(f"x86_64.tcg.fs.read_64mib_qemu_cpu_s {cpu:.2f} s")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
