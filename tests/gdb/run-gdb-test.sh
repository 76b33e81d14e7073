#!/usr/bin/env bash
# gdb.<target>: drives scripts/gdb in batch mode on one back-end (docs/debugging.md) and checks
# what a user relies on:
#   0. (x86-64) the kernel's symbols: a breakpoint on its system-call entry stops there;
#   1. the server filter: with SERVER hello, a breakpoint on an address every server runs (the
#      program entry on bare metal, where the first argument is the server's index; the image's
#      ukernel_image_main on hosted) stops first in hello, not in a server that started before;
#   2. a breakpoint in hello's request handler (ControlServer::handle for Crash, the line that
#      crashes) is reached by typing `crash hello` at the shell, and `bt` names the handler and
#      unwinds to hello's entry (hello_image.cpp);
#   3. after hello's restart, a second `crash hello` stops there again.
# hello's index is read from the system's own `ps` (its lines are in index order), not from the
# description parser scripts/gdb uses.
#
#   tests/gdb/run-gdb-test.sh TARGET LOG
set -uo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 hosted|x86_64 LOG" >&2
  exit 2
fi
target=$1 log=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
line=$(grep -n '^    crash_now();$' "$root/examples/system/control.hpp" | cut -d: -f1)
if [ -z "$line" ]; then
  echo "FAIL: no 'crash_now();' line in examples/system/control.hpp (the handler moved?)"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'ps\ncrash hello\ncrash hello\n' >"$work/script.txt"

# After the handler's stop, on to hello's restart: on hosted gdb stops at the SIGSEGV first.
again=(-ex continue)
if [ "$target" = hosted ]; then
  again=(-ex continue -ex continue)
  first=(-ex 'break ukernel_image_main' -ex run -ex 'printf "entry argument %d\n", index')
else
  # First the kernel's symbols: its system-call entry, which the root task reaches first.
  first=(-ex 'break x86_syscall' -ex continue -ex 'bt 1' -ex delete
    -ex 'break _start' -ex continue -ex 'printf "entry argument %d\n", $rdi')
fi
# timeout signals its whole process group: gdb, QEMU and the script's helpers.
timeout -k 5 150 "$root/scripts/gdb" "$target" hello --no-build --script "$work/script.txt" -- \
  -batch "${first[@]}" -ex 'bt 1' -ex delete \
  -ex "break control.hpp:$line" -ex continue -ex bt "${again[@]}" -ex bt \
  </dev/null >"$log" 2>&1
status=$?
fail() {
  echo "FAIL: $*"
  echo "--- the session ($log):"
  cat "$log"
  exit 1
}
[ $status -eq 124 ] || [ $status -eq 137 ] && fail "no end within 150 s (status $status)"
index=$(awk '/^uk> ps/ { on = 1; next }
  on && /^uk> / { exit }
  on { n++; if ($1 == "hello") { print n - 1; exit } }' "$log")
[ -n "$index" ] || fail "the system's ps did not list hello"
grep -q "^entry argument $index\$" "$log" ||
  fail "the first stop at the entry was not hello's (expected entry argument $index)"
if [ "$target" = x86_64 ]; then
  grep -q '^#0  x86_syscall (.*) at .*/src/arch/x86_64/' "$log" ||
    fail "no stop in the kernel's x86_syscall with its source (the kernel's symbols)"
fi
# The backtrace after the handler breakpoint: from its "#0" line on.
bt=$(sed -n "/^#0 .*control.hpp:$line/,\$p" "$log")
[ -n "$bt" ] || fail "no stop at control.hpp:$line, the Crash handler"
grep -q '^#0 .*system_example::ControlServer::handle(.*Method<257' <<<"$bt" ||
  fail "frame #0 does not name ControlServer::handle for Crash (method 257)"
grep -q 'ukernel_image_main .*hello_image.cpp' <<<"$bt" ||
  fail "the backtrace does not reach hello's ukernel_image_main (hello_image.cpp)"
grep -q 'Runtime::serve<hello::Server' <<<"$bt" ||
  fail "the backtrace does not pass hello's receive loop (Runtime::serve<hello::Server>)"
# The second `crash hello` reaches the restarted hello: the filter follows a restart.
stops=$(grep -c "^#0 .*ControlServer::handle(.*Method<257.*control.hpp:$line" "$log")
[ "$stops" -eq 2 ] ||
  fail "$stops stops in the Crash handler, not 2 (one before hello's restart, one after)"
entries=$(grep -c '^#[1-9][0-9]* .*ukernel_image_main .*hello_image.cpp' "$log")
[ "$entries" -eq 2 ] || fail "$entries backtraces reach hello's ukernel_image_main, not 2"
echo "PASS: gdb.$target: stopped first in hello (index $index), then in its Crash handler" \
  "before and after its restart:"
awk '/^#0 / { n++ } n == 1 && /^#/' <<<"$bt" | cut -c1-120
