#!/usr/bin/env bash
# Checks that every code block in a doc marked `<!-- file: PATH -->` is exactly PATH's content,
# so a tutorial can never drift from the code that the suite compiles and tests.
#   check-snippets.sh ROOT DOC...
set -u
root=$1
shift
status=0
for doc in "$@"; do
  checked=0
  while IFS= read -r path; do
    block=$(awk -v want="$path" '
      $0 ~ "^<!-- file: " want " -->$" { found = 1; next }
      found && /^```/ { if (inside) exit; inside = 1; next }
      inside { print }' "$root/$doc")
    if [ "$block" != "$(cat "$root/$path")" ]; then
      echo "$doc: the block for $path differs from the file:" >&2
      diff <(printf '%s\n' "$block") "$root/$path" >&2
      status=1
    fi
    checked=$((checked + 1))
  done < <(sed -n 's/^<!-- file: \(.*\) -->$/\1/p' "$root/$doc")
  if [ "$checked" -eq 0 ]; then
    echo "$doc: no <!-- file: ... --> blocks to check" >&2
    status=1
  else
    echo "$doc: $checked code blocks match their files"
  fi
done
exit $status
