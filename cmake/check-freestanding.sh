#!/usr/bin/env bash
# Fails if a server image needs anything at run time beyond the system-call entry points (and
# the sanitizer and loader hooks of a sanitizer build): no libstdc++ runtime, no libc calls.
#   check-freestanding.sh IMAGE [ALLOWED-REGEX]
image=$1
extra=${2:-'^$'}
allowed='^(ukernel::arch::|__asan|__ubsan|__sanitizer|_ITM_|__cxa_finalize|__gmon_start__)'
bad=$(nm -D --undefined-only "$image" | awk '{print $NF}' | c++filt | grep -v -E "$allowed" |
  grep -v -E "$extra")
if [ -n "$bad" ]; then
  echo "$image needs run-time symbols a freestanding server may not use:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "$image: freestanding (only system-call entry points)"
