#!/usr/bin/env bash
# Builds and runs the out-of-tree consumer (tests/package/consumer) against ukernel, one way:
#   run-consumer.sh package      SOURCE WORK BUILD   install BUILD (a configured, built ukernel)
#                                                    into WORK/prefix, then find_package(ukernel)
#   run-consumer.sh package      SOURCE WORK BUILD ARCH
#                                the same from a bare-metal BUILD (x86_64, aarch64): the consumer
#                                is configured with the prefix's toolchain file, and its image
#                                boots in QEMU (tests/qemu/run-qemu.sh)
#   run-consumer.sh subdirectory SOURCE WORK         add_subdirectory(SOURCE)
#   run-consumer.sh fetchcontent SOURCE WORK         FetchContent from the local path SOURCE
# The consumer's configure may not look for Catch2 or Google Benchmark: both are disabled, so a
# configure that asks for them fails. Exits non-zero on any failure, with the step's log.
set -uo pipefail
mode=$1
source=$2
work=$3
rm -rf "$work"
mkdir -p "$work"

step() {
  local name=$1
  shift
  if ! "$@" >"$work/$name.log" 2>&1; then
    cat "$work/$name.log"
    echo "package test ($mode): $name failed: $*" >&2
    exit 1
  fi
}

args=(-G Ninja -DUKERNEL_CONSUMER_MODE="$mode"
  -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON)
case $mode in
  package)
    step install cmake --install "$4" --prefix "$work/prefix"
    backend=${5:-hosted}
    library=lib/ukernel/hosted/libukernel_hosted.a
    [ "$backend" = hosted ] || library=share/ukernel/$backend/linker.ld
    for file in lib/cmake/ukernel/ukernelConfig.cmake lib/cmake/ukernel/ukernelConfigVersion.cmake \
      lib/cmake/ukernel/UkernelFunctions.cmake lib/cmake/ukernel/toolchain-x86_64.cmake \
      "$library" include/ukernel/abi.hpp "include/ukernel/backend/$backend/arch/user.hpp"; do
      [ -e "$work/prefix/$file" ] || { echo "not installed: $file" >&2; exit 1; }
    done
    args+=(-DCMAKE_PREFIX_PATH="$work/prefix")
    arch=${5:-}
    if [ -n "$arch" ]; then
      args+=(-DCMAKE_TOOLCHAIN_FILE="$work/prefix/lib/cmake/ukernel/toolchain-$arch.cmake"
        -DCMAKE_BUILD_TYPE=Release)
    fi
    ;;
  subdirectory | fetchcontent) args+=(-DUKERNEL_SOURCE_DIR="$source") ;;
  *) echo "usage: run-consumer.sh package|subdirectory|fetchcontent SOURCE WORK [BUILD [ARCH]]" >&2; exit 2 ;;
esac
# A configure that must fail with a message containing TEXT (the package refusing a request).
expect_refusal() {
  local name=$1 text=$2
  shift 2
  if cmake "$@" >"$work/$name.log" 2>&1; then
    echo "package test ($mode): $name: the configure passed; it must fail" >&2
    exit 1
  fi
  # CMake wraps messages: compare with the lines joined and the indentation squeezed.
  tr -s ' \n' '  ' <"$work/$name.log" | grep -qF "$text" || {
    cat "$work/$name.log"
    echo "package test ($mode): $name: the configure failed without saying '$text'" >&2
    exit 1
  }
}

if [ "$mode" = package ] && [ -z "${arch:-}" ]; then
  # The version file accepts the same minor version only; a back-end that was not installed is
  # named, with those that were.
  mkdir -p "$work/wrong-version"
  printf 'cmake_minimum_required(VERSION 3.25)\nproject(p LANGUAGES CXX)\nfind_package(ukernel 0.99 CONFIG REQUIRED)\n' \
    >"$work/wrong-version/CMakeLists.txt"
  expect_refusal wrong-version 'compatible with requested version "0.99"' \
    -S "$work/wrong-version" -B "$work/wrong-version/build" -DCMAKE_PREFIX_PATH="$work/prefix"
  expect_refusal missing-backend "has no 'aarch64' back-end (installed: hosted)" \
    -S "$source/tests/package/consumer" -B "$work/missing-backend" "${args[@]}" \
    -DCMAKE_TOOLCHAIN_FILE="$work/prefix/lib/cmake/ukernel/toolchain-aarch64.cmake"
fi
step configure cmake -S "$source/tests/package/consumer" -B "$work/build" "${args[@]}"
step build cmake --build "$work/build" -j2
if [ -n "${arch:-}" ]; then
  QEMU_LOG_DIR=$work exec "$source/tests/qemu/run-qemu.sh" "$arch" 50 "$work/build/consumer-image.elf" \
    "consumer: root task up, the greeter is a boot module" "root task: exit 0"
fi
step test ctest --test-dir "$work/build" --output-on-failure
"$work/build/greeter_test"
