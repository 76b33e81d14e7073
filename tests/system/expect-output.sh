#!/usr/bin/env bash
# Runs a program as a user would and checks both how it ended and what it printed: a sanitizer
# abort, or any other failure, after the expected output must not pass (ctest's
# PASS_REGULAR_EXPRESSION alone ignores the exit status).
#
#   tests/system/expect-output.sh CHECKER EXPECTED LOG INPUT -- COMMAND [ARG]...
#
# Runs COMMAND with stdin from INPUT (a file; /dev/null for none), its stdout and stderr in LOG.
# Passes only if it exits with status 0, LOG has no sanitizer report, and CHECKER
# (scenario_check) finds every line of EXPECTED in LOG, in order.
set -uo pipefail
if [ $# -lt 6 ] || [ "$5" != "--" ]; then
  echo "usage: $0 CHECKER EXPECTED LOG INPUT -- COMMAND [ARG]..." >&2
  exit 2
fi
checker=$1 expected=$2 log=$3 input=$4
shift 5
"$@" <"$input" >"$log" 2>&1
status=$?
failed=0
if [ $status -ne 0 ]; then
  echo "FAIL: $1 exited with status $status"
  failed=1
fi
if grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$log"; then
  echo "FAIL: a sanitizer reported an error"
  failed=1
fi
"$checker" "$expected" "$log" || failed=1
if [ $failed -ne 0 ]; then
  echo "---- output ($log) ----"
  cat "$log"
  echo "----"
  exit 1
fi
exit 0
