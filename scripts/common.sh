# Shared by scripts/run, scripts/test and scripts/bench. Sourced, not executed.
# shellcheck shell=bash

UKERNEL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$UKERNEL_ROOT" || exit 1

# Installs every package in scripts/deps.txt that is not installed yet. As root it runs apt-get;
# otherwise it prints the exact command to run and stops.
ensure_deps() {
  local missing=() pkg
  while read -r pkg; do
    pkg=${pkg%%#*}
    pkg=${pkg//[[:space:]]/}
    [ -n "$pkg" ] || continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done <"$UKERNEL_ROOT/scripts/deps.txt"
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "ukernel needs these Debian packages. Run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { echo "apt-get install failed" >&2; exit 1; }
}

# Configures and builds one CMake preset. The configure step is quiet unless it fails; so is the
# build when UKERNEL_QUIET_BUILD=1 (scripts/run, so that only the system's session is printed).
build_preset() {
  local preset=$1
  cmake --preset "$preset" >"build/.configure-$preset.log" 2>&1 ||
    { cat "build/.configure-$preset.log"; echo "configure of preset '$preset' failed" >&2; exit 1; }
  if [ "${UKERNEL_QUIET_BUILD:-0}" = 1 ]; then
    cmake --build --preset "$preset" >"build/.build-$preset.log" 2>&1 ||
      { cat "build/.build-$preset.log"; echo "build of preset '$preset' failed" >&2; exit 1; }
  else
    cmake --build --preset "$preset" || { echo "build of preset '$preset' failed" >&2; exit 1; }
  fi
}

mkdir -p "$UKERNEL_ROOT/build"
