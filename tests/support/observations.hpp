// Test support: results observed by user threads, asserted after the simulation has run.
//
// User threads run on fibers, where a throwing assertion would unwind across a fiber switch.
// So threads only record what they saw (what, got, want); the TEST_CASE body checks every
// record once Simulation::run has returned.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ukernel/abi.hpp"

namespace ukernel::test {

struct Observation {
  std::string what;
  word got;
  word want;
};

inline std::vector<Observation>& observations() {
  static std::vector<Observation> all;
  return all;
}

inline void reset_observations() {
  observations().clear();
}

inline void expect(std::string what, word got, word want) {
  observations().push_back({std::move(what), got, want});
}

inline void expect(std::string what, Error got, Error want) {
  expect(std::move(what), word(got), word(want));
}

inline void expect_true(std::string what, bool value) {
  expect(std::move(what), word(value), word(true));
}

}  // namespace ukernel::test
