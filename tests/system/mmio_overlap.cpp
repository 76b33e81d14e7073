// Must not compile: two drivers are granted overlapping device memory (the second one's window
// holds the first one's page). The error says so, and names the second server and its grant.
#include "description.hpp"
#include "platform.hpp"

constexpr sysdesc::System<3, 0> kBad{
    .servers = {{
        {.name = "supervisor", .priority = 255, .root = true},
        {.name = "uart-driver",
         .priority = 10,
         .grants = {sysdesc::mmio("uart", 0xc0000000, 4096)}},
        {.name = "rogue", .priority = 10, .grants = {sysdesc::mmio("window", 0xc0000000, 0x10000)}},
    }},
    .regions = {},
};
static_assert(sysdesc::verified<system_example::Platform, kBad>);
