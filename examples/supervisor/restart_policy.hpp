// When to restart a failed server: the pure part of supervision, tested on the host.
//
// At most `max_restarts` restarts in any `window_ns`; past that the server is failed. Within
// the window each restart waits longer than the one before: none for the first, then
// backoff_ns, 2 * backoff_ns, ...
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace supervisor {

struct RestartPolicy {
  unsigned max_restarts = 3;
  std::uint64_t window_ns = 10'000'000'000;  // 10 s
  std::uint64_t backoff_ns = 20'000'000;     // 20 ms
};

class RestartHistory {
 public:
  static constexpr unsigned kMaxRemembered = 16;

  // The server failed at `now_ns`. Returns how long to wait before restarting it, or nothing:
  // it has used up its restarts and stays failed. A restart is counted when it is decided.
  std::optional<std::uint64_t> on_failure(std::uint64_t now_ns, const RestartPolicy& policy) {
    unsigned recent = 0;
    for (unsigned i = 0; i < count_ && i < kMaxRemembered; ++i) {
      if (now_ns - times_[i] < policy.window_ns) ++recent;
    }
    if (recent >= policy.max_restarts) return std::nullopt;
    times_[count_ % kMaxRemembered] = now_ns;
    ++count_;
    return recent == 0 ? 0 : policy.backoff_ns << (recent - 1);
  }

  unsigned restarts() const { return count_; }

 private:
  std::array<std::uint64_t, kMaxRemembered> times_ = {};
  unsigned count_ = 0;
};

}  // namespace supervisor
