#!/usr/bin/env bash
# gdb.errors: scripts/gdb's every refusal, each with its message and status 2 (a usage error),
# and nothing started: no build (--no-build), no QEMU, no gdb session left behind.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
failures=0
# expect STATUS MESSAGE ARGS...: scripts/gdb ARGS exits with STATUS and prints MESSAGE (a
# message ending in a newline must end a line).
expect() {
  local status=$1 message=$2 out got
  shift 2
  out=$(timeout -k 5 60 "$root/scripts/gdb" "$@" </dev/null 2>&1)$'\n'
  got=$?
  if [ "$got" -ne "$status" ] || [[ "$out" != *"$message"* ]]; then
    echo "FAIL: scripts/gdb $*: status $got (expected $status), said:"
    echo "$out"
    echo "--- expected: $message"
    failures=$((failures + 1))
  fi
}
expect 2 "scripts/gdb: unknown target 'riscv'; valid targets: hosted x86_64 aarch64" riscv
expect 2 "scripts/gdb: no server 'nosuch' in examples/system/system.hpp; servers: supervisor \
names timer console hello shell pci blk fs"$'\n' \
  hosted nosuch --no-build
expect 2 "scripts/gdb: cannot read '/nonexistent/script.txt' (--script)" \
  hosted hello --script /nonexistent/script.txt
expect 2 "scripts/gdb: --disk needs a file" x86_64 hello --disk
expect 2 "scripts/gdb: unknown argument '--bogus' (gdb's arguments go after --)" x86_64 --bogus
# The `uk` command types at a bare-metal console only; on hosted the system reads the terminal.
expect 1 "uk: on hosted the system reads this terminal: type at uk>" \
  hosted --no-build -- -batch -ex 'uk ps' -ex 'quit 1'
if [ $failures -ne 0 ]; then
  echo "$failures of scripts/gdb's refusals were wrong"
  exit 1
fi
echo "PASS: gdb.errors: every refusal has its message and status"
