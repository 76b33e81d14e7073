#!/usr/bin/env bash
# Compiles FILE, which must FAIL, with an error that contains MESSAGE.
#   expect-error.sh MESSAGE COMPILER FILE [FLAGS...]
message=$1
compiler=$2
file=$3
shift 3
if output=$("$compiler" -fsyntax-only "$@" "$file" 2>&1); then
  echo "$file compiled, but it must not" >&2
  exit 1
fi
if ! grep -q -F -- "$message" <<<"$output"; then
  echo "$file failed to compile, but without the message: $message" >&2
  echo "$output" | head -20 >&2
  exit 1
fi
echo "$file: rejected with \"$message\""
