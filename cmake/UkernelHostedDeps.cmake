# Host libraries of the hosted build. All come from Debian 12 packages (scripts/deps.txt).
# The library needs Boost.Context and fmt; Catch2 and Google Benchmark are looked for only when
# the tests or the benchmarks are built (UKERNEL_BUILD_TESTS, UKERNEL_BUILD_BENCHMARKS).
find_package(Boost 1.74 REQUIRED COMPONENTS context)
find_package(fmt REQUIRED)
if(UKERNEL_BUILD_TESTS)
  find_package(Catch2 2.13 REQUIRED)
  include(Catch)
endif()
if(UKERNEL_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
  find_package(Threads REQUIRED)
endif()
