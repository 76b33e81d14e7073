#!/usr/bin/env bash
# tests/fuzz/hex-corpus.sh SRC DEST: writes each SRC/*.hex (the corpus as text in the repository:
# hexadecimal bytes, any whitespace between them) to DEST as the binary input libFuzzer reads.
# DEST is where libFuzzer adds the inputs it finds, so it is a build directory, never SRC.
set -euo pipefail
src=$1 dest=$2
mkdir -p "$dest"
for f in "$src"/*.hex; do
  perl -0777 -ne 's/\s+//g; print pack("H*", $_)' "$f" >"$dest/$(basename "$f" .hex)"
done
