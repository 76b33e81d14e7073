# Host libraries of the hosted build. All come from Debian 12 packages (scripts/deps.txt).
find_package(Boost 1.74 REQUIRED COMPONENTS context)
find_package(fmt REQUIRED)
find_package(Catch2 2.13 REQUIRED)
find_package(benchmark REQUIRED)
find_package(Threads REQUIRED)
include(Catch)
