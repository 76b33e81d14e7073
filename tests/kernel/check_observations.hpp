// Asserts every observation the user threads of a test recorded (see support/observations.hpp).
#pragma once

#include <catch2/catch.hpp>

#include "support/observations.hpp"

namespace ukernel::test {

// Checks each observation, and that exactly `expected` were made: a thread that never ran or
// stopped early records fewer, a loop that ran too often more, and either way the count says
// which observations the test really made.
inline void check_observations(std::size_t expected) {
  for (const Observation& o : observations()) {
    INFO(o.what);
    CHECK(o.got == o.want);
  }
  CHECK(observations().size() == expected);
}

}  // namespace ukernel::test
