// The supervisor's restart policy: at most N restarts in a window, each later one backed off.
#include <catch2/catch.hpp>

#include "supervisor/restart_policy.hpp"

using supervisor::RestartHistory;
using supervisor::RestartPolicy;

TEST_CASE("restarts back off, and past the limit the server has failed") {
  RestartPolicy policy{.max_restarts = 3, .window_ns = 10'000, .backoff_ns = 100};
  RestartHistory history;
  CHECK(history.on_failure(0, policy) == 0u);     // the first restart is immediate
  CHECK(history.on_failure(10, policy) == 100u);  // then backoff
  CHECK(history.on_failure(20, policy) == 200u);  // doubled
  CHECK_FALSE(history.on_failure(30, policy));    // the 4th failure within the window
  CHECK(history.restarts() == 3);
}

TEST_CASE("failures outside the window are forgotten") {
  RestartPolicy policy{.max_restarts = 2, .window_ns = 1'000, .backoff_ns = 10};
  RestartHistory history;
  CHECK(history.on_failure(0, policy) == 0u);
  CHECK(history.on_failure(500, policy) == 10u);
  CHECK(history.on_failure(1'600, policy) == 0u);  // both earlier ones are older than 1000
  CHECK(history.on_failure(1'700, policy) == 10u);
  CHECK_FALSE(history.on_failure(1'800, policy));
  CHECK(history.restarts() == 4);
}
