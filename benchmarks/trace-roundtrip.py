#!/usr/bin/env python3
"""Where the instructions of a bare-metal IPC round trip go: a TCG execution trace, bucketed.

    benchmarks/trace-roundtrip.py ARCH KERNEL_ELF [--min-count N]

Boots KERNEL_ELF (build/<arch>/targets/<arch>/kernel-bench.elf) under QEMU TCG with the
benchmark's settings (-icount shift=0,align=off,sleep=off) and one instruction per translation
block (-singlestep), logging every executed instruction (-d exec,nochain) into a pipe. The trace
is cut at every kernel entry from user mode (the system-call entry), so each piece is one kernel
entry, the exit, and the user code that runs until the next entry. Two consecutive pieces that
repeat many times over are one steady-state round trip of a benchmark loop (a call and a
reply_recv, or a signal and a wait); each such cycle is printed with its instructions split into
buckets:

    user A    user code after the first entry's exit (the server, for a call)
    user B    user code after the second entry's exit (the client: stub, loop, checks)
    entry     the entry stubs (assembly up to the first C++ function)
    exit      the exit path (set_user_context, leave_to_user, the assembly exit)
    core      everything else in the kernel (dispatch, fast path, scheduling)

and the kernel functions by instruction count. Nothing is written to disk; the figures repeat
exactly from run to run, like the benchmark's (docs/performance.md).
"""
import argparse
import bisect
import collections
import os
import subprocess
import sys
import tempfile

ARCHES = {
    "x86_64": {
        "qemu": ["qemu-system-x86_64", "-machine", "q35",
                 "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
        "nm": "nm",
        "cut": ("x86_syscall_entry", 0),
        "entry": {"x86_syscall_entry", "trap_common"},
        "exit": {"x86_exit_to_user", "_ZN7ukernel3x8613leave_to_userEPNS0_7ContextE",
                 "_ZN7ukernel3x8616set_user_contextEPNS0_7ContextE"},
        "kernel_base": 0xFFFF800000000000,
    },
    "aarch64": {
        "qemu": ["qemu-system-aarch64", "-machine", "virt", "-cpu", "cortex-a57", "-semihosting"],
        "nm": "aarch64-linux-gnu-nm",
        "cut": ("aarch64_vectors", 0x400),  # synchronous exception from EL0 (svc)
        "entry": {"aarch64_vectors", "user_exception"},
        "exit": {"aarch64_exit_to_user"},
        "kernel_base": 0xFFFF000000000000,
    },
}


def symbols(nm, elf):
    out = subprocess.run([nm, "-n", "--defined-only", elf], check=True, capture_output=True,
                         text=True).stdout
    addresses, names = [], []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            addresses.append(int(parts[0], 16))
            names.append(parts[2])
    return addresses, names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("arch", choices=sorted(ARCHES))
    parser.add_argument("kernel")
    parser.add_argument("--min-count", type=int, default=200,
                        help="how often a cycle must repeat to be printed")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--listing", type=int, metavar="LENGTH",
                        help="print the instructions of the cycle of LENGTH instructions, and stop "
                             "tracing once it has repeated --min-count times")
    args = parser.parse_args()
    arch = ARCHES[args.arch]
    addresses, names = symbols(arch["nm"], args.kernel)
    cut_symbol, cut_offset = arch["cut"]
    cut = [a for a, n in zip(addresses, names) if n == cut_symbol]
    if not cut:
        sys.exit(f"trace-roundtrip: no symbol {cut_symbol} in {args.kernel}")
    cut = cut[0] + cut_offset

    def symbol(pc):
        i = bisect.bisect_right(addresses, pc) - 1
        return names[i] if i >= 0 else "?"

    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "exec.log")
        os.mkfifo(fifo)
        qemu = subprocess.Popen(
            ["timeout", "-k", "5", str(args.timeout)] + arch["qemu"] +
            ["-accel", "tcg", "-icount", "shift=0,align=off,sleep=off", "-singlestep",
             "-m", "128M", "-nic", "none", "-nographic", "-monitor", "none", "-serial", "none",
             "-no-reboot", "-d", "exec,nochain", "-D", fifo, "-kernel", args.kernel],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pieces = collections.Counter()  # (previous piece, piece) -> count
        previous = None
        current = []
        with open(fifo, "r", errors="replace") as log:
            for line in log:
                start = line.find("[")
                if start < 0:
                    continue
                fields = line[start + 1:line.find("]", start)].split("/")
                if len(fields) < 2:
                    continue
                pc = int(fields[1], 16)
                if pc == cut and current:
                    piece = tuple(current)
                    if previous is not None:
                        pieces[(previous, piece)] += 1
                        if (args.listing == len(previous) + len(piece) and
                                pieces[(previous, piece)] >= args.min_count):
                            qemu.terminate()  # timeout passes it on to QEMU
                            break
                    previous = piece
                    current = []
                current.append(pc)
        qemu.wait()

    kernel_base = arch["kernel_base"]
    seen = set()
    for (first, second), count in pieces.most_common():
        if count < args.min_count:
            break
        # Each cycle shows up twice (A,B and B,A); print the one that starts with the call.
        if (second, first) in seen:
            continue
        seen.add((first, second))
        buckets = collections.Counter()
        functions = collections.Counter()
        for label, piece in (("A", first), ("B", second)):
            for pc in piece:
                if pc < kernel_base:
                    buckets[f"user {label}"] += 1
                    continue
                name = symbol(pc)
                functions[name] += 1
                if name in arch["entry"]:
                    buckets["entry"] += 1
                elif name in arch["exit"]:
                    buckets["exit"] += 1
                else:
                    buckets["core"] += 1
        total = len(first) + len(second)
        print(f"cycle of {total} instructions ({len(first)} + {len(second)}), seen {count} times")
        for bucket in ("user A", "user B", "entry", "core", "exit"):
            print(f"  {bucket:8} {buckets[bucket]:5}")
        for name, n in functions.most_common():
            print(f"    {n:5}  {name}")
        if args.listing == total:
            for pc in first + second:
                print(f"      {pc:#x}  {symbol(pc) if pc >= kernel_base else 'user'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
