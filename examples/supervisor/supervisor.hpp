// The supervisor: the root task of the example system. It boots every server from the
// description (boot.hpp), then stays as their supervisor: the fault endpoint of every server
// (the badge says which), the restart policy (restart_policy.hpp), a ping watchdog, and the
// supervisor protocol (protocol.hpp) for servers and the shell.
//
// Two helper threads in the root task make the calls the supervisor itself must never block
// in: the ticker (asks the timer service for a periodic wake-up) and the worker (pings servers,
// delivers the crash test hook, registers servers again after the name service restarted).
#pragma once

#include "supervisor/boot.hpp"

namespace supervisor {

// The root task's body: boot the system, then supervise it. `boot_info`: the root's argument.
void run(word boot_info, ImageLoader loader);

}  // namespace supervisor
