// Must not compile: a server is given I/O ports on the hosted back-end, which has none. The
// error says so, and names the server ("uart-driver") and the grant ("uart").
#include "description.hpp"
#include "platform.hpp"

constexpr sysdesc::System<2, 0> kBad{
    .servers = {{
        {.name = "supervisor", .priority = 255, .root = true},
        {.name = "uart-driver", .priority = 10, .grants = {sysdesc::io_ports("uart", 0x3f8, 8)}},
    }},
    .regions = {},
};
static_assert(sysdesc::verified<system_example::Platform, kBad>);
